import { BlockList, isIP } from 'node:net';
import {
  compileHeaderOps,
  compileRegexp,
  defineModule,
  HttpError,
  moduleFactory,
  recordTarget,
  type FerryRequest,
  type Middleware,
  type ResponseWriter,
} from '@ferry/core';
import type { RoundTripError } from './errors.js';
import { startActiveChecks, type Probe } from './health.js';
import { addVia, endToEnd, requestEndToEnd, type HeaderRecord } from './hop.js';
import { createSelector } from './selection.js';
import { createTransport, MidBodyError, type OutRequest, type ResponseSink } from './transport.js';
import { proxyMetrics } from './metrics.js';
import { reverseProxySchema } from './schema.js';
import { proxyUpgrade, upgradeCarriesBody } from './upgrade.js';
import { Upstream, type PassiveHealth } from './upstream.js';

/** Upstreams made from dials with placeholders that are kept (with their pools) at once. */
const DYNAMIC_UPSTREAMS = 1024;

function trustedList(ranges: readonly string[]): (ip: string) => boolean {
  if (ranges.length === 0) return () => false;
  const list = new BlockList();
  for (const r of ranges) {
    const [addr, bits] = r.split('/');
    const fam = isIP(addr ?? '');
    if (!fam) throw new Error(`trusted_proxies: "${r}" is not an IP address or CIDR range`);
    const type = fam === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return (ip) => {
    const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const fam = isIP(v4);
    return fam !== 0 && list.check(v4, fam === 6 ? 'ipv6' : 'ipv4');
  };
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

function isEventStream(headers: HeaderRecord): boolean {
  const t = headers['content-type'];
  return typeof t === 'string' && t.toLowerCase().startsWith('text/event-stream');
}

/** `http.handlers.reverse_proxy`: load-balanced, health-checked proxying, upgrades included. */
export const reverseProxyModule = defineModule({
  id: 'http.handlers.reverse_proxy',
  description: 'Proxies requests to upstreams: load balancing, health checks, streaming, WebSocket and RFC 8441 upgrades.',
  config: reverseProxySchema,
  validate(cfg) {
    const problems: string[] = [];
    const p = cfg.load_balancing.selection_policy;
    if (p.policy === 'weighted_round_robin' && p.weights && p.weights.length !== cfg.upstreams.length) {
      problems.push(`selection_policy.weights has ${p.weights.length} entries for ${cfg.upstreams.length} upstreams`);
    }
    if (p.policy === 'header' && !p.field) problems.push('selection_policy "header" needs a "field"');
    return problems;
  },
  provision(cfg, ctx): Middleware {
    const lb = cfg.load_balancing;
    const weights = lb.selection_policy.weights;
    const trusted = trustedList(cfg.trusted_proxies);
    const select = createSelector(lb.selection_policy, trusted);
    const retries = lb.retries;
    const tryDuration = lb.try_duration;
    const tryInterval = lb.try_interval;
    const t = cfg.transport;
    const transport = createTransport({
      versions: t.versions,
      dialTimeout: t.dial_timeout,
      responseHeaderTimeout: t.response_header_timeout,
      keepAlive: t.keep_alive.enabled,
      idleTimeout: t.keep_alive.idle_timeout,
      maxConnsPerHost: t.max_conns_per_host,
    });
    if (t.keep_alive.max_idle_conns_per_host !== undefined) {
      ctx.logger.warn(
        { path: `${ctx.path}.transport.keep_alive.max_idle_conns_per_host` },
        'max_idle_conns_per_host has no effect in Ferry: idle upstream connections close after idle_timeout; bound connections with transport.max_conns_per_host',
      );
    }
    ctx.onCleanup(() => transport.close());
    const pa = cfg.health_checks?.passive;
    const passive: PassiveHealth | undefined = pa
      ? {
          failDuration: pa.fail_duration,
          maxFails: pa.max_fails,
          unhealthyStatus: pa.unhealthy_status,
          unhealthyLatency: pa.unhealthy_latency,
        }
      : undefined;

    // Static upstreams are made once; ones with placeholders are resolved per request (and cached).
    const staticUps: Upstream[] = [];
    const dynamic = cfg.upstreams.map((u, i) => {
      const tpl = ctx.template(u.dial, `${ctx.path}.upstreams[${i}].dial`);
      if (tpl.isStatic) {
        const up = new Upstream(tpl.render(null as never), weights?.[i]);
        staticUps.push(up);
        return { up, tpl, max: u.max_requests };
      }
      return { up: undefined, tpl, max: u.max_requests };
    });
    const dynamicCache = new Map<string, Upstream>();
    const resolve = (req: FerryRequest): { up: Upstream; max: number | undefined }[] =>
      dynamic.map(({ up, tpl, max }, i) => {
        if (up) return { up, max };
        const dial = tpl.render(req);
        let hit = dynamicCache.get(dial);
        if (hit) {
          // Most recently used last: the one dropped below is the least recently used.
          dynamicCache.delete(dial);
        } else {
          hit = new Upstream(dial, weights?.[i]);
          // Dials come from request data, so a client chooses how many there are: keep the most
          // recently used, and close the pool (and its keep-alive connections) of the one dropped.
          if (dynamicCache.size >= DYNAMIC_UPSTREAMS) {
            const [oldest, gone] = dynamicCache.entries().next().value!;
            dynamicCache.delete(oldest);
            transport.release(gone);
          }
        }
        dynamicCache.set(dial, hit);
        return { up: hit, max };
      });

    const metrics = proxyMetrics(ctx.metrics);
    // Static upstreams only: their dials come from the config, so the `upstream` label is bounded
    // by it. Dials with placeholders are request data and never become a label.
    ctx.onCleanup(metrics.watchHealth(() => staticUps.map((up) => [up.dial, up.healthy(passive)] as const)));
    const active = cfg.health_checks?.active;
    if (active && staticUps.length > 0) {
      const uri = active.uri ?? active.path ?? '/';
      const checkHeaders = Object.fromEntries(Object.entries(active.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v.join(', ')]));
      // Probes go through the proxy's own transport (an h2c upstream is probed over h2c, which
      // undici's HTTP/1.1 pool could not do) and to the health `port` when one is set.
      const targets = new Map(
        staticUps.map((up) => [up, active.port ? new Upstream(`${up.host.includes(':') ? `[${up.host}]` : up.host}:${active.port}`) : up]),
      );
      const probe: Probe = (up) =>
        new Promise((resolve, reject) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let status = 0;
          const sink: ResponseSink = {
            informational() {},
            head(s) {
              status = s;
            },
            data(chunk) {
              // expect_body looks at the start of the body; the rest is read and dropped.
              if (size < 64 * 1024) chunks.push(chunk);
              size += chunk.length;
              return true;
            },
            end() {},
          };
          const out: OutRequest = {
            method: 'GET',
            path: uri,
            headers: { host: up.dial, ...checkHeaders },
            body: null,
            signal: AbortSignal.timeout(active.timeout),
          };
          transport
            .roundTrip(targets.get(up)!, out, sink)
            .then(() => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }), reject);
        });
      const stop = startActiveChecks(
        staticUps,
        {
          interval: active.interval,
          expectStatus: active.expect_status,
          expectBody: active.expect_body ? compileRegexp(active.expect_body, `${ctx.path}.health_checks.active.expect_body`) : undefined,
          passes: active.passes,
          fails: active.fails,
        },
        probe,
        ctx.logger,
      );
      ctx.onCleanup(stop);
    }

    const reqOps = compileHeaderOps(cfg.headers?.request, ctx, `${ctx.path}.headers.request`);
    const resOps = compileHeaderOps(cfg.headers?.response, ctx, `${ctx.path}.headers.response`);
    const flushInterval = cfg.flush_interval;
    const streamSettings = {
      dialTimeout: t.dial_timeout,
      streamTimeout: cfg.stream_timeout,
      streamCloseDelay: cfg.stream_close_delay,
      stopping: ctx.server.stopping,
      logger: ctx.logger,
    };
    const logger = ctx.logger;

    /** The request as the upstream will see it. */
    const outgoing = (req: FerryRequest): HeaderRecord => {
      const h = requestEndToEnd(req.raw.rawHeaders, req.headers);
      delete h.expect; // Node answered any 100-continue already
      if (req.protocol !== 'http/1.1') h.host = req.authority;
      const client = req.remoteAddress.startsWith('::ffff:') ? req.remoteAddress.slice(7) : req.remoteAddress;
      // X-Forwarded-*: extended for trusted proxies, replaced for everyone else (spoofing guard).
      if (trusted(req.remoteAddress)) {
        const prior = h['x-forwarded-for'];
        h['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
        h['x-forwarded-proto'] ??= req.scheme;
        h['x-forwarded-host'] ??= req.authority;
      } else {
        h['x-forwarded-for'] = client;
        h['x-forwarded-proto'] = req.scheme;
        h['x-forwarded-host'] = req.authority;
      }
      addVia(h, req.protocol === 'http/1.1' ? '1.1' : '2.0');
      if (reqOps) reqOps(req, recordTarget(h));
      return h;
    };
    const answer = (req: FerryRequest, headers: HeaderRecord): HeaderRecord => {
      addVia(headers, '1.1');
      if (resOps) resOps(req, recordTarget(headers));
      return headers;
    };

    const pick = (req: FerryRequest, res: ResponseWriter, tried: Set<Upstream>): Upstream | undefined => {
      const now = Date.now();
      const all = resolve(req);
      const fits = (x: { up: Upstream; max: number | undefined }) =>
        x.up.healthy(passive, now) && (x.max === undefined || x.up.inFlight < x.max);
      let available = all.filter((x) => fits(x) && !tried.has(x.up)).map((x) => x.up);
      // Every healthy upstream tried already: a retry may go back to one.
      if (available.length === 0) available = all.filter(fits).map((x) => x.up);
      return available.length === 0 ? undefined : select(available, req, res);
    };

    const forward = (up: Upstream, req: FerryRequest, res: ResponseWriter, out: OutRequest): Promise<void> => {
      const start = Date.now();
      let streaming = false;
      let headTimer: NodeJS.Timeout | undefined;
      let flushTimer: NodeJS.Timeout | undefined;
      const sink: ResponseSink = {
        informational(status, headers) {
          if (status !== 101) res.writeInformational(status, endToEnd(headers) as Record<string, string>);
        },
        head(status, headers) {
          if (passive) {
            if (passive.unhealthyStatus.includes(status)) up.fail(passive);
            else if (passive.unhealthyLatency > 0 && Date.now() - start > passive.unhealthyLatency) up.fail(passive);
          }
          const h = answer(req, endToEnd(headers));
          streaming = flushInterval === -1 || isEventStream(h) || h['content-length'] === undefined;
          for (const [k, v] of Object.entries(h)) {
            if (v === undefined) continue;
            // Set-Cookie is appended: the cookie selection policy's `lb` cookie is already there.
            if (k === 'set-cookie') res.appendHeader(k, v as string | string[]);
            else res.setHeader(k, v as string | string[]);
          }
          res.statusCode = status;
          if (streaming) res.flush();
          // Headers go out even when the body is slow to start.
          else headTimer = setTimeout(() => res.flush(), flushInterval > 0 ? flushInterval : 100);
        },
        data(chunk, resume) {
          if (headTimer) headTimer = void clearTimeout(headTimer);
          const ok = res.write(chunk);
          if (streaming) res.flush();
          // A positive flush_interval bounds how long written bytes may wait in a wrapper (encode's
          // compressor) before they go out, as Go's maxLatencyWriter does.
          else if (flushInterval > 0 && !flushTimer) {
            flushTimer = setTimeout(() => {
              flushTimer = undefined;
              res.flush();
            }, flushInterval);
          }
          if (!ok) res.once('drain', resume);
          return ok;
        },
        end() {
          clearTimeout(headTimer);
          clearTimeout(flushTimer);
          res.end();
        },
      };
      up.inFlight++;
      return transport.roundTrip(up, out, sink).finally(() => {
        up.inFlight--;
        clearTimeout(headTimer);
        clearTimeout(flushTimer);
      });
    };

    return async (req, res) => {
      const tried = new Set<Upstream>();
      const started = Date.now();
      const upgrade = req.upgrade !== undefined || (req.isConnect && req.extendedConnectProtocol !== undefined);
      const bodyless =
        (req.method === 'GET' || req.method === 'HEAD') && !req.headers['content-length'] && !req.headers['transfer-encoding'];
      // Go forwards such a body; here core hands over the connection unframed, so refuse it rather
      // than leave the upstream waiting for it or splice it into the new protocol.
      if (req.upgrade !== undefined && upgradeCarriesBody(req)) {
        throw new HttpError(400, 'reverse_proxy does not forward the body of an HTTP/1.1 Upgrade request: send the request without one');
      }
      for (let attempt = 0; ; attempt++) {
        const up = pick(req, res, tried);
        if (!up) {
          if (tryDuration > 0 && Date.now() - started + tryInterval < tryDuration && !req.signal.aborted) {
            await sleep(tryInterval, req.signal);
            continue;
          }
          throw new HttpError(503, 'no upstream available');
        }
        tried.add(up);
        const out: OutRequest = {
          method: req.method,
          path: req.url,
          headers: outgoing(req),
          body: bodyless ? null : req.body,
          signal: req.signal,
        };
        try {
          if (upgrade) {
            const kind = (req.upgrade ?? req.extendedConnectProtocol ?? '').toLowerCase() === 'websocket' ? 'websocket' : 'upgrade';
            metrics.streams.inc({ kind });
            // Counted for the stream's whole life, as Caddy's countRequest: max_requests and
            // least_conn see WebSockets too.
            up.inFlight++;
            try {
              await proxyUpgrade(up, req, res, out.headers, { ...streamSettings, responseHeaders: (h) => answer(req, h) });
            } finally {
              up.inFlight--;
              metrics.streams.dec({ kind });
            }
          } else await forward(up, req, res, out);
          return;
        } catch (err) {
          if (err instanceof MidBodyError) {
            // The response has started: abort it, never end it as if complete. Destroy *with* an
            // error: on h2 a bare destroy() resets the stream with NO_ERROR, which a client takes
            // for a complete response; an error makes it RST_STREAM(INTERNAL_ERROR), as Go does.
            logger.warn({ upstream: up.dial, err: err.cause }, 'upstream failed mid-response');
            res.destroy(err);
            return;
          }
          // An answer the proxy chose itself (an upgrade the upstream did not make): no retry, no strike.
          if (err instanceof HttpError) throw err;
          const e = err as RoundTripError;
          if (e.kind === 'client-gone') {
            logger.info({ upstream: up.dial, status: 499, uri: req.url }, 'client went away before the upstream answered');
            return;
          }
          up.fail(passive);
          // A dial failure sent nothing, so any request may move on; others only when no body was sent.
          const safe = e.kind === 'dial' || (bodyless && !upgrade);
          const more = attempt < retries || (tryDuration > 0 && Date.now() - started + tryInterval < tryDuration);
          logger.warn({ upstream: up.dial, err: e.cause ?? e, retrying: safe && more }, e.message);
          if (safe && more && !req.signal.aborted) {
            await sleep(tryInterval, req.signal);
            continue;
          }
          throw new HttpError(e.kind === 'timeout' ? 504 : 502, undefined, { cause: e });
        }
      }
    };
  },
});

/** `reverseProxy({ upstreams: [{ dial: '127.0.0.1:9000' }], loadBalancing: { … } })` — the code front door. */
export const reverseProxy = moduleFactory(reverseProxyModule);
