import { type IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { FerryRequest } from '../request.js';

/**
 * The request's fields as node:http gives them (a plain object, as Node's, which has no field
 * named `__proto__` either): no h2 pseudo-headers; `host` from `:authority` on h2.
 */
function nodeHeaders(req: FerryRequest): { headers: IncomingHttpHeaders; rawHeaders: string[] } {
  const headers: IncomingHttpHeaders = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':') || name === '__proto__') continue;
    (headers as Record<string, unknown>)[name] = value;
    for (const v of Array.isArray(value) ? value : [value]) rawHeaders.push(name, v);
  }
  if (headers.host === undefined && req.authority !== '') {
    headers.host = req.authority;
    rawHeaders.push('host', req.authority);
  }
  return { headers, rawHeaders };
}

/**
 * A node:http `IncomingMessage` for `req`, for a Node-style app mounted in Ferry: the method, target
 * and header fields as Ferry has them now (after `rewrite`, `headers`, a stripped prefix), the
 * connection's socket (for `req.ip`, `req.secure`), and a body read from Ferry's `req.body` — so
 * `request_body`'s limit and 100-continue hold — with backpressure.
 *
 * An object of its own, not the request Node parsed: the app may replace its prototype (Express
 * does) and change its fields without touching Ferry's request; destroying it leaves the
 * connection alone.
 */
export function nodeRequestOf(req: FerryRequest): IncomingMessage {
  const m = new IncomingMessage(null as unknown as Socket);
  const socket = req.raw.socket as Socket;
  m.socket = socket;
  m.method = req.method;
  m.url = req.url;
  const h1 = req.protocol === 'http/1.1';
  m.httpVersionMajor = h1 ? req.raw.httpVersionMajor : 2;
  m.httpVersionMinor = h1 ? req.raw.httpVersionMinor : 0;
  m.httpVersion = `${m.httpVersionMajor}.${m.httpVersionMinor}`;
  const { headers, rawHeaders } = nodeHeaders(req);
  m.headers = headers;
  m.rawHeaders = rawHeaders;
  let source: Readable | undefined;
  const own = m as unknown as { _read(): void; _destroy(err: Error | null, cb: (err: Error | null) => void): void };
  own._read = () => {
    if (source === undefined) {
      const body = req.body;
      source = body;
      body.on('data', (chunk: Buffer) => {
        if (!m.push(chunk)) body.pause();
      });
      body.once('end', () => {
        m.complete = true;
        m.push(null);
      });
      body.once('error', (err) => m.destroy(err));
    }
    source.resume();
  };
  own._destroy = (err, cb) => cb(err);
  return m;
}
