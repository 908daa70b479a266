import { HttpError, type FerryRequest, type Logger, type Middleware, type ResponseWriter } from '@ferry/core';
import { MidBodyError, type RoundTripError } from './errors.js';
import type { Forwarding } from './forwarded.js';
import type { HeaderRecord } from './hop.js';
import { judgeHead } from './health.js';
import type { ProxyMetrics } from './metrics.js';
import type { UpstreamPool } from './pool.js';
import { ClientCancel } from './cancel.js';
import { ClientResponse } from './respond.js';
import type { ParsedConfig } from './schema.js';
import type { Selector } from './selection.js';
import type { OutRequest, Transport } from './transport.js';
import { proxyUpgrade, upgradeCarriesBody, type StreamSettings } from './upgrade.js';
import type { PassiveHealth, Upstream } from './upstream.js';

/** The parts of one reverse_proxy handler, wired once by provision, that every request uses. */
export interface ProxyParts {
  pool: UpstreamPool;
  select: Selector;
  transport: Transport;
  forwarding: Forwarding;
  passive: PassiveHealth | undefined;
  /** `retries`, `try_duration`, `try_interval`. */
  lb: Pick<ParsedConfig['load_balancing'], 'retries' | 'try_duration' | 'try_interval'>;
  flushInterval: number;
  /** For upgraded streams; the response's header operations are added per request. */
  streams: Omit<StreamSettings, 'responseHeaders'>;
  metrics: ProxyMetrics;
  logger: Logger;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The handler: each attempt picks an available upstream and tries it, as an ordinary round trip
 * or as an upgrade. A failure moves on to another upstream while `retries` or `try_duration`
 * allow and nothing was sent that the upstream could have acted on; with no upstream available,
 * it waits for one as long as `try_duration` allows. `try_interval` apart, in both cases.
 *
 * Most requests are ordinary ones that the first upstream picked answers: those make one round
 * trip and one promise reaction after it, without an async function (its promise, and the two
 * reactions that carry a result out of it, were ~1,500 instructions a proxied request);
 * `attempts` takes over at the first failure, and from the start for upgrades and try_duration.
 */
export function proxyHandler(p: ProxyParts): Middleware {
  const tryDuration = p.lb.try_duration;
  return (req, res) => {
    if (tryDuration > 0 || req.upgrade !== undefined || req.isConnect) return attempts(p, req, res, new ClientCancel(req, res));
    // What throws here rejects, as it would in an async function: a middleware before this one
    // may clean up on the promise only.
    try {
      const up = p.pool.pick(req, res, undefined, p.select);
      const cancel = new ClientCancel(req, res);
      if (!up) return attempts(p, req, res, cancel);
      return tryForward(p, up, req, res, outRequest(p, req, cancel), (err) => attempts(p, req, res, cancel, { up, err }));
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/** A request with neither Content-Length nor Transfer-Encoding. */
const unframed = (req: FerryRequest) => !req.headers['content-length'] && !req.headers['transfer-encoding'];

/** A GET or HEAD without a body: any failure may move on to another upstream. */
const bodyless = (req: FerryRequest) => (req.method === 'GET' || req.method === 'HEAD') && unframed(req);

/** What goes to an upstream for `req`: its fields as forwarded, and its body unless it has none. */
function outRequest(p: ProxyParts, req: FerryRequest, cancel: ClientCancel): OutRequest {
  // RFC 9112 §6.3: an HTTP/1.1 request with neither field has no body, whatever its method (a
  // DELETE goes without an empty chunked one); an h2 request may still send DATA.
  const noBody = unframed(req) && (req.protocol === 'http/1.1' || bodyless(req));
  return { method: req.method, path: req.url, headers: p.forwarding.request(req), body: noBody ? null : req.body, cancel };
}

/** The attempts after a failed first one (`failed`), or all of them. */
async function attempts(
  p: ProxyParts,
  req: FerryRequest,
  res: ResponseWriter,
  cancel: ClientCancel,
  failed?: { up: Upstream; err: unknown },
): Promise<void> {
  const { retries, try_duration: tryDuration, try_interval: tryInterval } = p.lb;
  const started = tryDuration > 0 ? Date.now() : 0;
  const upgrade = req.upgrade !== undefined || (req.isConnect && req.extendedConnectProtocol !== undefined);
  // Go forwards such a body; here core hands over the connection unframed, so refuse it rather
  // than leave the upstream waiting for it or splice it into the new protocol.
  if (req.upgrade !== undefined && upgradeCarriesBody(req)) {
    throw new HttpError(400, 'reverse_proxy does not forward the body of an HTTP/1.1 Upgrade request: send the request without one');
  }
  const resendable = bodyless(req) && !upgrade;
  // Whether try_duration leaves room for one more wait.
  const timeLeft = () => tryDuration > 0 && Date.now() - started + tryInterval < tryDuration;
  // Made on the first retry: most requests are tried once.
  let tried: Upstream[] | undefined;
  let attempt = 0;
  if (failed) {
    if (afterFailure(p, failed.err, failed.up, req, res, resendable, attempt < retries || timeLeft()) === 'done') return;
    tried = [failed.up];
    attempt++;
    await sleep(tryInterval, req.signal);
  }
  for (; ; attempt++) {
    const up = p.pool.pick(req, res, tried, p.select);
    if (!up) {
      if (timeLeft() && !cancel.aborted) {
        await sleep(tryInterval, req.signal);
        continue;
      }
      throw new HttpError(503, 'no upstream available');
    }
    const out = outRequest(p, req, cancel);
    try {
      await (upgrade ? tryUpgrade(p, up, req, res, out) : tryForward(p, up, req, res, out));
      return;
    } catch (err) {
      if (afterFailure(p, err, up, req, res, resendable, attempt < retries || timeLeft()) === 'done') return;
      (tried ??= []).push(up);
      await sleep(tryInterval, req.signal);
    }
  }
}

/**
 * What a failed attempt leaves: `retry` (another upstream may take the request), `done` (the
 * client's response is settled already), or it throws the error status the client gets.
 * `resendable`: the request has no body, so any failure may move on; `more`: retries or
 * try_duration allow another attempt.
 */
function afterFailure(
  p: ProxyParts,
  err: unknown,
  up: Upstream,
  req: FerryRequest,
  res: ResponseWriter,
  resendable: boolean,
  more: boolean,
): 'retry' | 'done' {
  if (err instanceof MidBodyError) {
    // The response has started: abort it, never end it as if complete. Destroy *with* an
    // error: on h2 a bare destroy() resets the stream with NO_ERROR, which a client takes
    // for a complete response; an error makes it RST_STREAM(INTERNAL_ERROR), as Go does.
    p.logger.warn({ upstream: up.dial, err: err.cause }, 'upstream failed mid-response');
    res.destroy(err);
    return 'done';
  }
  // An answer the proxy chose itself (an upgrade the upstream did not make): no retry, no strike.
  if (err instanceof HttpError) throw err;
  const e = err as RoundTripError;
  if (e.kind === 'client-gone') {
    p.logger.info({ upstream: up.dial, status: 499, uri: req.url }, 'client went away before the upstream answered');
    return 'done';
  }
  up.fail(p.passive);
  // A dial failure sent nothing, so any request may move on; others only when no body was sent.
  const safe = e.kind === 'dial' || resendable;
  p.logger.warn({ upstream: up.dial, err: e.cause ?? e, retrying: safe && more }, e.message);
  if (safe && more && !req.signal.aborted) return 'retry';
  throw new HttpError(e.kind === 'timeout' ? 504 : 502, undefined, { cause: e });
}

/**
 * One ordinary round trip, streamed to the client; the upstream counts it in flight meanwhile
 * (least_conn, max_requests). A failure goes to `onFailure` when given, else rejects.
 */
function tryForward(
  p: ProxyParts,
  up: Upstream,
  req: FerryRequest,
  res: ResponseWriter,
  out: OutRequest,
  onFailure?: (err: unknown) => Promise<void>,
): Promise<void> {
  const passive = p.passive;
  const start = passive ? Date.now() : 0;
  const judge = passive ? (status: number) => judgeHead(up, passive, status, Date.now() - start) : undefined;
  const headOf = (status: number, headers: HeaderRecord) => {
    judge?.(status);
    return p.forwarding.response(req, headers);
  };
  const client = new ClientResponse(res, p.flushInterval, headOf, !p.forwarding.rewritesResponse, judge);
  up.inFlight++;
  const settle = () => {
    up.inFlight--;
    client.stop();
  };
  return p.transport.roundTrip(up, out, client).then(settle, (err) => {
    settle();
    if (onFailure) return onFailure(err);
    throw err;
  });
}

/** One upgrade (WebSocket, other Upgrades, RFC 8441 CONNECT), for the stream's whole life. */
async function tryUpgrade(p: ProxyParts, up: Upstream, req: FerryRequest, res: ResponseWriter, out: OutRequest): Promise<void> {
  const kind = (req.upgrade ?? req.extendedConnectProtocol ?? '').toLowerCase() === 'websocket' ? 'websocket' : 'upgrade';
  p.metrics.streams.inc({ kind });
  // Counted for the stream's whole life, as Caddy's countRequest: max_requests and
  // least_conn see WebSockets too.
  up.inFlight++;
  try {
    await proxyUpgrade(up, req, res, out.headers, { ...p.streams, responseHeaders: (h) => p.forwarding.response(req, h) });
  } finally {
    up.inFlight--;
    p.metrics.streams.dec({ kind });
  }
}
