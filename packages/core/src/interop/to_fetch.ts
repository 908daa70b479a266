import type { IncomingMessage } from 'node:http';
import { HttpError } from '../errors.js';
import { Arrival } from '../request.js';
import { writeErrorResponse } from '../server/respond.js';
import { type FerryServer, serveForeign } from '../server/server.js';
import { incomingOf } from './fetch_request.js';
import { FetchResponseWriter } from './fetch_response_writer.js';
import { exposeMounted, type Mounted, mountServer } from './mounted_server.js';
import type { NodeHandlerInput } from './to_node_handler.js';

/**
 * Ferry's routes as a fetch handler: `(request) => Promise<Response>`, for a fetch-based host (a
 * Hono route, Deno-style servers, service workers) or a test without sockets. Extra arguments a
 * host passes (Hono's `env`, `ctx`) are ignored.
 */
export interface FetchListener extends Mounted {
  (request: Request): Promise<Response>;
}

/** Options that describe a connection or a listener, which a fetch host has and Ferry does not. */
const NOT_HERE: Record<string, string> = {
  listen: 'the fetch host listens',
  protocols: 'the fetch host speaks the protocols',
  tls: 'the fetch host terminates TLS',
  enableFullDuplex: 'a fetch Response is half duplex',
};

/** `signal.reason` as an Error: what the pending Response rejects with, and the body fails with. */
function reasonOf(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new DOMException('the Request was aborted', 'AbortError');
}

/** Serves one Request on `server`'s routes; the Response comes as soon as its head is decided. */
function serveRequest(server: FerryServer, request: Request): Promise<Response> {
  const signal = request.signal;
  if (signal.aborted) return Promise.reject(reasonOf(signal));
  if (request.bodyUsed) return Promise.reject(new TypeError('toFetch: the Request body was already read'));
  const url = new URL(request.url);
  const secure = url.protocol === 'https:';
  const writer = new FetchResponseWriter(request.method, secure);
  let raw: IncomingMessage;
  try {
    raw = incomingOf(request, url);
  } catch (err) {
    // What Node's parser refuses before any route runs (a bad Content-Length): its 400.
    writeErrorResponse(writer, HttpError.from(err));
    return writer.response;
  }
  // Aborting the Request is the client leaving: the writer closes unfinished, req.signal aborts.
  const onAbort = () => writer.abort(reasonOf(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  writer.once('close', () => signal.removeEventListener('abort', onAbort));
  try {
    server[serveForeign](raw, writer, 'http/1.1', secure, Arrival.Request);
  } catch (err) {
    writer.destroy(err instanceof Error ? err : new Error(String(err)));
  }
  return writer.response;
}

/**
 * `toFetch(routes)`: Ferry's routes as `(request: Request) => Promise<Response>`, run without a
 * socket. Takes what `toNodeHandler` takes (server options without `listen`, `protocols`, `tls`
 * or `enableFullDuplex`; a handler; an array of handlers). The request is served as an HTTP/1.1
 * request on the Request's URL (path and query as WHATWG URL parsing left them), its body streamed
 * with backpressure; the Response resolves once the head is decided and streams its body, every
 * `Set-Cookie` a field of its own. Aborting the Request (its signal) or cancelling the Response
 * body is the client leaving (`req.signal` aborts). Errors reach the error routes.
 *
 * Not carried over, fetch has no words for them: 1xx responses (dropped), full duplex (a route
 * that turns it on fails with a 501), connection takeover (`res.hijack` is absent: an Upgrade
 * request is served as an ordinary one).
 */
export function toFetch(input: NodeHandlerInput): FetchListener {
  const { server, ready, whenReady } = mountServer('toFetch', input, NOT_HERE);
  const fetch = ((request: Request) => whenReady(() => serveRequest(server, request))) as FetchListener;
  exposeMounted(fetch, server, ready);
  return fetch;
}
