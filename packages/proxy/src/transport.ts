import { connect as h2connect, constants as h2c, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { HeaderRecord } from './hop.js';
import type { ParsedConfig } from './schema.js';
import { classify, RoundTripError } from './errors.js';
import { Gate } from './gate.js';
import type { Upstream } from './upstream.js';

/** The `transport` options, parsed (durations in ms). */
export type TransportConfig = ParsedConfig['transport'];

/** One request to an upstream. */
export interface OutRequest {
  method: string;
  path: string;
  headers: HeaderRecord;
  body: Readable | null;
  signal: AbortSignal;
}

/** Where a response goes, callback by callback; `data` returning false means "pause until resume()". */
export interface ResponseSink {
  informational(status: number, headers: HeaderRecord): void;
  head(status: number, headers: HeaderRecord, statusText: string): void;
  data(chunk: Buffer, resume: () => void): boolean;
  end(): void;
}

/**
 * Sends `out` and streams the answer into `sink`. Rejects with a RoundTripError only before
 * `sink.head` was called; a failure after that rejects with `{ afterHead: true }` so the caller
 * aborts the client's response instead of retrying.
 */
export type RoundTrip = (up: Upstream, out: OutRequest, sink: ResponseSink) => Promise<void>;

/** Failure after the response started: the client's response must be aborted, never ended. */
export class MidBodyError extends Error {
  constructor(cause: unknown) {
    super('upstream failed mid-response', { cause });
    this.name = 'MidBodyError';
  }
}

export interface Transport {
  roundTrip: RoundTrip;
  dispatcher: (up: Upstream) => Dispatcher;
  /** Lets go of an upstream no longer used: its pool closes once its requests are done. */
  release: (up: Upstream) => void;
  close: () => Promise<void>;
}

export function createTransport(cfg: TransportConfig): Transport {
  const pools = new Set<Upstream>();
  const sessions = new Map<Upstream, ClientHttp2Session>();
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
          // response_header_timeout is timed in viaUndici: undici runs this one on its coarse
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

  const viaUndici: RoundTrip = async (up, out, sink) => {
    const gate = gateFor(up);
    if (gate && !(await gate.acquire(out.signal)))
      throw new RoundTripError('client-gone', 'client went away while waiting for a connection to the upstream');
    try {
      await dispatchUndici(up, out, sink);
    } finally {
      gate?.release();
    }
  };

  const dispatchUndici: RoundTrip = (up, out, sink) =>
    new Promise((resolve, reject) => {
      let started = false;
      let controller: Dispatcher.DispatchController | undefined;
      const onAbort = () => controller?.abort(out.signal.reason);
      out.signal.addEventListener('abort', onAbort, { once: true });
      // response_header_timeout counts from the end of the request (as Go's ResponseHeaderTimeout).
      let headTimer: NodeJS.Timeout | undefined;
      let finished = false;
      const armHeadTimer = () => {
        if (cfg.response_header_timeout <= 0 || started || finished || headTimer) return;
        headTimer = setTimeout(() => {
          const err = Object.assign(new Error('no response headers within response_header_timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
          controller?.abort(err);
        }, cfg.response_header_timeout);
      };
      const done = (err?: unknown) => {
        finished = true;
        clearTimeout(headTimer);
        out.signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else if (out.signal.aborted) reject(new RoundTripError('client-gone', 'client went away', { cause: err }));
        else reject(started ? new MidBodyError(err) : classify(err));
      };
      dispatcher(up).dispatch(
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

  const session = (up: Upstream): ClientHttp2Session => {
    const cur = sessions.get(up);
    if (cur && !cur.closed && !cur.destroyed) return cur;
    const s = h2connect(up.origin, { settings: { enablePush: false } });
    // A session error fails its streams, and each stream's 'error' fails its round trip (classified there).
    s.on('error', () => {});
    s.once('close', () => sessions.get(up) === s && sessions.delete(up));
    s.once('goaway', () => sessions.get(up) === s && sessions.delete(up));
    if (cfg.keep_alive.idle_timeout > 0) s.setTimeout(cfg.keep_alive.idle_timeout, () => s.close());
    sessions.set(up, s);
    return s;
  };

  const viaH2c: RoundTrip = (up, out, sink) =>
    new Promise((resolve, reject) => {
      let started = false;
      const s = session(up);
      const headers: Record<string, string | string[]> = {
        ':method': out.method,
        ':path': out.path,
        ':scheme': 'http',
        ':authority': String(out.headers.host ?? up.dial),
      };
      for (const [k, v] of Object.entries(out.headers))
        if (k !== 'host' && v !== undefined) headers[k] = typeof v === 'number' ? String(v) : v;
      // With the signal, an abort resets the stream (RST_STREAM CANCEL) without ending it first:
      // stream.close() would send END_STREAM and the upstream would take a cut upload as whole.
      const stream = s.request(headers, { endStream: out.body === null, signal: out.signal });
      const fail = (err: unknown) => {
        if (out.signal.aborted) reject(new RoundTripError('client-gone', 'client went away', { cause: err }));
        else reject(started ? new MidBodyError(err) : classify(err));
      };
      const dial = setTimeout(
        () => stream.destroy(Object.assign(new Error('response header timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
        cfg.response_header_timeout || 2 ** 31 - 1,
      );
      dial.unref();
      stream.on('error', (err) => {
        clearTimeout(dial);
        fail(err);
      });
      stream.on('headers', (h: H2Headers) => {
        const status = Number(h[':status']);
        if (status >= 100 && status < 200) sink.informational(status, strip(h));
      });
      stream.on('response', (h: H2Headers) => {
        clearTimeout(dial);
        started = true;
        sink.head(Number(h[':status']), strip(h), '');
      });
      stream.on('data', (chunk: Buffer) => {
        if (!sink.data(chunk, () => stream.resume())) stream.pause();
      });
      stream.on('end', () => {
        // A session that dies mid-stream (GOAWAY, connection lost) also ends the readable side,
        // with rstCode already set: that is a failure, reported by 'close', never a clean end.
        if (stream.rstCode !== undefined && stream.rstCode !== h2c.NGHTTP2_NO_ERROR) return;
        sink.end();
        resolve();
      });
      stream.on('close', () => {
        clearTimeout(dial);
        if (stream.rstCode && stream.rstCode !== h2c.NGHTTP2_NO_ERROR)
          fail(Object.assign(new Error(`stream reset (${stream.rstCode})`), { code: 'ERR_HTTP2_STREAM_ERROR' }));
        else if (!started) fail(Object.assign(new Error('stream closed without a response'), { code: 'ECONNRESET' }));
      });
      if (out.body) {
        out.body.on('error', (err) => stream.destroy(err));
        out.body.pipe(stream);
      }
    });

  return {
    roundTrip: cfg.versions.includes('h2c') ? viaH2c : viaUndici,
    dispatcher,
    release(up) {
      pools.delete(up);
      void up.close();
      sessions.get(up)?.close();
      sessions.delete(up);
    },
    async close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
      await Promise.all([...pools].map((up) => up.close()));
    },
  };
}

function strip(h: H2Headers): HeaderRecord {
  const out: HeaderRecord = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = v as string | string[];
  return out;
}
