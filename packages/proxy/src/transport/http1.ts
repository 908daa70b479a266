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
  const gateFor = (up: Upstream): Gate => {
    let gate = gates.get(up);
    if (!gate) gates.set(up, (gate = new Gate(limit!)));
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
  const timeout = cfg.response_header_timeout;

  const gated = async (up: Upstream, out: OutRequest, sink: ResponseSink): Promise<void> => {
    const gate = gateFor(up);
    if (!(await gate.acquire(out.cancel)))
      throw new RoundTripError('client-gone', 'client went away while waiting for a connection to the upstream');
    try {
      await dispatch(dispatcher(up), out, sink, timeout);
    } finally {
      gate.release();
    }
  };
  const roundTrip: RoundTrip = limit ? gated : (up, out, sink) => dispatch(dispatcher(up), out, sink, timeout);

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
    const exchange = new Exchange(out, sink, responseHeaderTimeout, resolve, reject);
    pool.dispatch(
      { path: out.path, method: out.method, headers: out.headers as Record<string, string | string[]>, body: out.body },
      exchange,
    );
  });
}

/**
 * One round trip's undici handler, as one object per request rather than a closure per callback
 * (the proxy's hot path): the answer goes to the sink; the client going away aborts it;
 * response_header_timeout counts from the end of the request (as Go's ResponseHeaderTimeout).
 */
class Exchange implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #started = false;
  #finished = false;
  #headTimer: NodeJS.Timeout | undefined;
  readonly #unwatch: () => void;

  constructor(
    readonly out: OutRequest,
    readonly sink: ResponseSink,
    readonly timeout: number,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {
    this.#unwatch = out.cancel.watch(() => this.#controller?.abort(new RoundTripError('client-gone', 'client went away')));
  }

  #armHeadTimer = (): void => {
    if (this.timeout <= 0 || this.#started || this.#finished || this.#headTimer) return;
    this.#headTimer = setTimeout(() => {
      const err = Object.assign(new Error('no response headers within response_header_timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
      this.#controller?.abort(err);
    }, this.timeout);
  };

  #done(err?: unknown): void {
    this.#finished = true;
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#unwatch();
    if (err === undefined) this.resolve();
    else if (this.out.cancel.aborted) this.reject(new RoundTripError('client-gone', 'client went away', { cause: err }));
    else this.reject(this.#started ? new MidBodyError(err) : classify(err));
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.#controller = c;
    const body = this.out.body;
    if (this.out.cancel.aborted) c.abort(new RoundTripError('client-gone', 'client went away'));
    else if (this.timeout <= 0) return;
    else if (!body || body.readableEnded) this.#armHeadTimer();
    else body.once('end', this.#armHeadTimer);
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[]>,
    statusText?: string,
  ): void {
    if (this.#headTimer) this.#headTimer = void clearTimeout(this.#headTimer);
    if (status < 200) {
      this.sink.informational(status, headers as HeaderRecord);
      return;
    }
    this.#started = true;
    this.sink.head(status, headers as HeaderRecord, statusText ?? '');
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.sink.data(chunk, () => c.resume())) c.pause();
  }

  onResponseEnd(): void {
    this.sink.end();
    this.#done();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.#done(err);
  }
}
