import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { HttpError } from '../errors.js';
import type { FerryRequest } from '../request.js';
import type { Middleware, ResponseWriter } from '../types.js';

/** A fetch-style handler: Hono's `app.fetch`, itty-router, Remix's request handler. */
export type FetchHandler = (request: Request, ctx?: unknown) => Response | Promise<Response>;

/** Fields a Request refuses to carry (Headers drops them, or they describe this hop only). */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings', 'te']);

/**
 * A host as a URL may carry it: a name or IPv4 address, or a bracketed IPv6 one, and a port.
 * Anything else (`a@b`, `a/b`, `a?b`) would change what the URL says its host or path is.
 */
const SAFE_HOST = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** The request's URL as the handler will read it (host and port as sent); a host that would change it is a 400. */
function urlOf(req: FerryRequest): string {
  const host = req.authority === '' ? 'localhost' : req.authority;
  const m = SAFE_HOST.exec(host);
  if (m === null || Number(m[1] ?? 0) > 65535) throw new HttpError(400, 'invalid Host');
  return `${req.scheme}://${host}${req.url}`;
}

function toRequest(req: FerryRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':') || HOP.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: req.signal };
  if (!bodyless) {
    init.body = Readable.toWeb(req.body) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(urlOf(req), init);
}

async function writeResponse(req: FerryRequest, res: ResponseWriter, response: Response): Promise<void> {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (response.body === null || req.method === 'HEAD') {
    await response.body?.cancel();
    res.end();
    return;
  }
  const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  try {
    // Backpressure both ways: a slow client slows the handler's stream; a client that leaves
    // cancels it (and `request.signal` has fired).
    await pipeline(body, res);
  } catch (err) {
    if (req.signal.aborted || res.destroyed) return;
    throw err;
  }
}

/**
 * `fromFetch(handler)`: a fetch-style handler as a Ferry handler. The request becomes a WHATWG
 * `Request` (its body streamed, `request.signal` aborting when the client leaves); the `Response`
 * is written back streamed, every `Set-Cookie` kept. What it throws reaches the error routes.
 * Half duplex, as fetch is: the response starts once the handler returned it.
 */
export function fromFetch(handler: FetchHandler, ctx?: unknown): Middleware {
  return async (req, res) => {
    const response = await handler(toRequest(req), ctx);
    if (typeof response !== 'object' || response === null || typeof response.status !== 'number' || !response.headers)
      throw new TypeError('the fetch handler did not return a Response');
    await writeResponse(req, res, response);
  };
}
