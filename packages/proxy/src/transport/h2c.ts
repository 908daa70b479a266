import { connect as h2connect, constants as h2c, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { HttpError } from '@ferry/core';
import { classify, MidBodyError, RoundTripError } from '../errors.js';
import type { HeaderRecord } from '../hop.js';
import type { OutRequest, ResponseSink, Transport, TransportConfig } from '../transport.js';
import type { Upstream } from '../upstream.js';

/** Cleartext HTTP/2 to the upstreams by prior knowledge: one session per upstream, each request a stream on it. */
export function h2cTransport(cfg: TransportConfig): Transport {
  const sessions = new Map<Upstream, ClientHttp2Session>();
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
  return {
    // Async, so a session that cannot even be made rejects the round trip instead of throwing.
    roundTrip: async (up, out, sink) => exchange(session(up), up, out, sink, cfg.response_header_timeout),
    release(up) {
      sessions.get(up)?.close();
      sessions.delete(up);
    },
    async close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  };
}

/** The request's pseudo-headers, then its fields (Host becomes `:authority`). */
function requestHeaders(up: Upstream, out: OutRequest): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {
    ':method': out.method,
    ':path': out.path,
    ':scheme': 'http',
    ':authority': String(out.headers.host ?? up.dial),
  };
  for (const [k, v] of Object.entries(out.headers)) if (k !== 'host' && v !== undefined) headers[k] = typeof v === 'number' ? String(v) : v;
  return headers;
}

/** One request as a stream on `s`, the answer fed to `sink`. */
function exchange(s: ClientHttp2Session, up: Upstream, out: OutRequest, sink: ResponseSink, responseHeaderTimeout: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = false;
    // With the signal, an abort resets the stream (RST_STREAM CANCEL) without ending it first:
    // stream.close() would send END_STREAM and the upstream would take a cut upload as whole.
    const stream = s.request(requestHeaders(up, out), { endStream: out.body === null, signal: out.cancel.signal() });
    const fail = (err: unknown) => {
      if (out.cancel.aborted) reject(new RoundTripError('client-gone', 'client went away', { cause: err }));
      // A body refused on the way (request_body's 413) is that answer, not an upstream failure.
      else if (err instanceof HttpError && !started) reject(err);
      else reject(started ? new MidBodyError(err) : classify(err));
    };
    const dial = setTimeout(
      () => stream.destroy(Object.assign(new Error('response header timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })),
      responseHeaderTimeout || 2 ** 31 - 1,
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
}

/** An h2 header block without its pseudo-headers. */
function strip(h: H2Headers): HeaderRecord {
  const out: HeaderRecord = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && v !== undefined) out[k] = v as string | string[];
  return out;
}
