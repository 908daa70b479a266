import { type IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { HttpError } from '../errors.js';

/**
 * The request's fields as Node's parser gives them: lower-case names, `set-cookie` as an array,
 * no field named `__proto__` in `headers` (Node drops it too; it stays in `rawHeaders`), `host`
 * from the URL when the Request has none. Framing is decided here as a parser would: a body
 * without a valid `Content-Length` is `transfer-encoding: chunked`; a Request's own
 * `Transfer-Encoding` describes no wire and is dropped. Throws a 400 for a Content-Length that
 * is not one decimal number.
 */
function nodeHeaders(request: Request, url: URL): { headers: IncomingHttpHeaders; rawHeaders: string[]; declared: number | undefined } {
  const headers: Record<string, string | string[]> = {};
  const rawHeaders: string[] = [];
  for (const [name, value] of request.headers) {
    if (name === 'transfer-encoding') continue;
    rawHeaders.push(name, value);
    if (name === '__proto__') continue;
    if (name === 'set-cookie') ((headers[name] as string[] | undefined) ?? (headers[name] = [])).push(value);
    else headers[name] = value;
  }
  if (headers.host === undefined && url.host !== '') {
    headers.host = url.host;
    rawHeaders.push('host', url.host);
  }
  const cl = headers['content-length'] as string | undefined;
  if (cl !== undefined && !/^\d{1,15}$/.test(cl)) throw new HttpError(400, 'invalid Content-Length');
  const declared = cl === undefined ? undefined : Number(cl);
  if (declared === undefined && request.body !== null) {
    headers['transfer-encoding'] = 'chunked';
    rawHeaders.push('transfer-encoding', 'chunked');
  }
  return { headers: headers as IncomingHttpHeaders, rawHeaders, declared };
}

/**
 * Feeds `message` from the Request's body as it is read (while it has room: backpressure),
 * holding the body to its declared `Content-Length` as Node's parser does: a body longer or
 * shorter fails with a 400. Destroying the message (a `request_body` limit, a handler that gives
 * up) cancels the body: nothing else is touched, there is no connection.
 */
function streamBody(message: IncomingMessage, request: Request, declared: number | undefined): void {
  const body = request.body;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let seen = 0;
  const end = () => {
    if (declared !== undefined && seen !== declared) {
      message.destroy(new HttpError(400, `request body of ${seen} bytes, but its Content-Length says ${declared}`));
      return;
    }
    message.complete = true;
    message.push(null);
  };
  const own = message as unknown as { _read(): void; _destroy(err: Error | null, cb: (err: Error | null) => void): void };
  let reading = false;
  // Reads while the message wants more (push true); waits for the next `_read` otherwise. Not one
  // read per `_read`: an IncomingMessage asks for more only while a socket feeds it.
  const pump = () => {
    if (body === null) return end();
    reader ??= body.getReader();
    reading = true;
    reader.read().then(
      ({ done, value }) => {
        reading = false;
        if (done) return end();
        seen += value.byteLength;
        if (declared !== undefined && seen > declared) {
          message.destroy(new HttpError(400, `request body longer than its Content-Length (${declared})`));
          return;
        }
        if (message.push(value)) pump();
      },
      (err: unknown) => message.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  };
  own._read = () => {
    if (!reading) pump();
  };
  own._destroy = (err, cb) => {
    if (reader !== undefined) reader.cancel(err ?? undefined).catch(() => {});
    else if (body !== null && !body.locked) body.cancel(err ?? undefined).catch(() => {});
    cb(err);
  };
}

/**
 * A node:http `IncomingMessage` for a WHATWG `Request`, without a socket: what Ferry's routes
 * read a request from (toFetch). The target is the URL's path and query, as WHATWG URL parsing
 * left them (dot segments already resolved, `%2F` kept); HTTP/1.1; the body streamed from
 * `request.body`. Throws a 400 HttpError for framing Node's parser would refuse.
 */
export function incomingOf(request: Request, url: URL): IncomingMessage {
  const { headers, rawHeaders, declared } = nodeHeaders(request, url);
  const message = new IncomingMessage(null as unknown as Socket);
  message.method = request.method;
  message.url = url.pathname + url.search;
  message.httpVersionMajor = 1;
  message.httpVersionMinor = 1;
  message.httpVersion = '1.1';
  message.headers = headers;
  message.rawHeaders = rawHeaders;
  streamBody(message, request, declared);
  return message;
}
