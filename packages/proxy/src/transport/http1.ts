import { Pool, type Dispatcher } from 'undici';
import { classify, MidBodyError, RoundTripError } from '../errors.js';
import { Gate } from '../gate.js';
import type { HeaderRecord } from '../hop.js';
import type { OutRequest, ResponseSink, RoundTrip, Transport, TransportConfig } from '../transport.js';
import type { Upstream } from '../upstream.js';

/**
 * HTTP/1.1 to the upstreams over undici: one Pool per upstream, kept on the Upstream, and with
 * `max_conns_per_host` a Gate in front of it.
 */
export function http1Transport(cfg: TransportConfig): Transport {
  const pools = new Set<Upstream>();
  const gates = new WeakMap<Upstream, Gate>();
  const limit = cfg.max_conns_per_host;
  const gateFor = (up: Upstream): Gate | undefined => {
    if (!limit) return undefined;
    let gate = gates.get(up);
    if (!gate) gates.set(up, (gate = new Gate(limit)));
    return gate;
  };
  const dispatcher = (up: Upstream) => {
    pools.add(up);
    return up.dispatcher(
      (origin) =>
        new Pool(origin, {
          connect: { timeout: cfg.dial_timeout },
          // response_header_timeout is timed in dispatch(): undici runs this one on its coarse
          // "fast timers" (~1 s resolution), so a 200ms timeout fired only after ~1 s.
          headersTimeout: 0,
          bodyTimeout: 0, // streams may be quiet for long; stream_timeout governs them
          keepAliveTimeout: cfg.keep_alive.idle_timeout,
          pipelining: cfg.keep_alive.enabled ? 1 : 0,
          // Requests beyond it wait (in the Gate, then in undici's queue), as Go's MaxConnsPerHost.
          ...(limit ? { connections: limit } : {}),
        }),
    );
  };

  const roundTrip: RoundTrip = async (up, out, sink) => {
    const gate = gateFor(up);
    if (gate && !(await gate.acquire(out.signal)))
      throw new RoundTripError('client-gone', 'client went away while waiting for a connection to the upstream');
    try {
      await dispatch(dispatcher(up), out, sink, cfg.response_header_timeout);
    } finally {
      gate?.release();
    }
  };

  return {
    roundTrip,
    release(up) {
      pools.delete(up);
      void up.close();
    },
    async close() {
      await Promise.all([...pools].map((up) => up.close()));
    },
  };
}

/** One request through undici's dispatch API, the answer fed to `sink`. */
function dispatch(pool: Dispatcher, out: OutRequest, sink: ResponseSink, responseHeaderTimeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = false;
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = () => controller?.abort(out.signal.reason);
    out.signal.addEventListener('abort', onAbort, { once: true });
    // response_header_timeout counts from the end of the request (as Go's ResponseHeaderTimeout).
    let headTimer: NodeJS.Timeout | undefined;
    let finished = false;
    const armHeadTimer = () => {
      if (responseHeaderTimeout <= 0 || started || finished || headTimer) return;
      headTimer = setTimeout(() => {
        const err = Object.assign(new Error('no response headers within response_header_timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
        controller?.abort(err);
      }, responseHeaderTimeout);
    };
    const done = (err?: unknown) => {
      finished = true;
      clearTimeout(headTimer);
      out.signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else if (out.signal.aborted) reject(new RoundTripError('client-gone', 'client went away', { cause: err }));
      else reject(started ? new MidBodyError(err) : classify(err));
    };
    pool.dispatch(
      { path: out.path, method: out.method, headers: out.headers as Record<string, string | string[]>, body: out.body },
      {
        onRequestStart(c) {
          controller = c;
          if (out.signal.aborted) c.abort(out.signal.reason);
          else if (!out.body || out.body.readableEnded) armHeadTimer();
          else out.body.once('end', armHeadTimer);
        },
        onResponseStart(_c, status, headers, statusText) {
          clearTimeout(headTimer);
          if (status < 200) return sink.informational(status, headers as HeaderRecord);
          started = true;
          sink.head(status, headers as HeaderRecord, statusText ?? '');
        },
        onResponseData(c, chunk) {
          if (!sink.data(chunk, () => c.resume())) c.pause();
        },
        onResponseEnd() {
          sink.end();
          done();
        },
        onResponseError(_c, err) {
          done(err);
        },
      },
    );
  });
}
