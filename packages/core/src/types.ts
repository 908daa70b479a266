import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClearCookieOptions, CookieOptions } from './cookies.js';
import type { FerryRequest } from './request.js';

/** The wire protocol a request arrived on. */
export type Protocol = 'http/1.1' | 'h2' | 'h2c';

/** A terminal request handler. Writes the response (or throws). */
export type Handler = (req: FerryRequest, res: ResponseWriter) => Promise<void>;

/**
 * One link of a chain, Caddy's `ServeHTTP(w, r, next)`: calls `next` at most once, may pass a
 * wrapped `res` or a changed `req` to it, and may throw to stop the chain.
 */
export type Middleware = (req: FerryRequest, res: ResponseWriter, next: Handler) => Promise<void>;

/** A predicate over a request: the compiled form of a matcher module. */
export type Matcher = (req: FerryRequest) => boolean;

/**
 * The response writer: the `node:http` `ServerResponse` surface plus Ferry's additions.
 * Capabilities are values: `fullDuplex` is a boolean, `hijack` is present only where a raw
 * connection can be taken over.
 *
 * It is a writable stream (`NodeJS.WritableStream`, the type Node's own stream functions take), so
 * `pipeline(readable, res)`, `finished(res)` and `readable.pipe(res)` take it as it is. Not the
 * `stream.Writable` class: neither Node's responses nor the wrappers are one at run time, and
 * its `cork()`, `writableLength` or `_write` would be promises they do not keep.
 */
export interface ResponseWriter extends NodeJS.WritableStream {
  statusCode: number;
  statusMessage: string;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly writableFinished: boolean;
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  /** Node's `writable`: true for a response (Node's own responses never turn it false). */
  readonly writable: boolean;
  /** True once the response closed: all of it sent, or aborted (`writableFinished` tells which). */
  readonly closed: boolean;

  setHeader(name: string, value: number | string | readonly string[]): this;
  appendHeader(name: string, value: string | readonly string[]): this;
  getHeader(name: string): number | string | string[] | undefined;
  getHeaders(): OutgoingHttpHeaders;
  getHeaderNames(): string[];
  hasHeader(name: string): boolean;
  removeHeader(name: string): void;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  writeHead(statusCode: number, statusMessage?: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  write(chunk: unknown, callback?: (err?: Error | null) => void): boolean;
  write(chunk: unknown, encoding: BufferEncoding, callback?: (err?: Error | null) => void): boolean;
  end(cb?: () => void): this;
  end(chunk: unknown, cb?: () => void): this;
  end(chunk: unknown, encoding: BufferEncoding, cb?: () => void): this;
  /**
   * True when a chunk given to `write` or `end` *with a callback* may be reused by the caller once
   * that callback ran: by then the writer wrote it out or copied what it keeps. Node's own
   * responses are; a wrapper is only when it says so (`encode` is, over a writer that is). Absent
   * or false: a chunk stays the writer's after the call. The proxy lends its read buffers to a
   * writer that is, and copies them for one that is not.
   */
  readonly lendable?: boolean;
  flushHeaders(): void;
  destroy(error?: Error): this;

  /**
   * Runs `fn` once, just before the status line and header fields go out, whichever call sends
   * them (`writeHead`, the first `write`, `end`, `flushHeaders`, `flush`): the last moment to
   * change `statusCode` and the headers (set, append, remove). A 1xx (`writeInformational`) does
   * not run it. Callbacks run most recent first, so a middleware that registered before `next`
   * sees what the handlers after it decided in theirs. A callback must not write the body. One
   * that throws stops the head: the error is thrown by the call that was sending it (in a
   * handler, an ordinary error that reaches the error routes), or, where a stream sends the head
   * (`pipeline`: the response has 'error' listeners), emitted as 'error'. Throws when the head was already
   * sent or the connection hijacked. When the chain throws before the head went out, its
   * callbacks are dropped: the error response is a new response.
   */
  onHead(fn: () => void): void;
  /** Puts everything written so far — status and headers included — on the wire now, through every wrapper. */
  flush(): void;
  /** Sends a 1xx response (100 Continue, 103 Early Hints, …) at once. No wrapper holds it. */
  writeInformational(status: number, headers?: OutgoingHttpHeaders): void;
  /** True when the request body can still be read while the response is written. */
  readonly fullDuplex: boolean;
  /** Turns full duplex on where the protocol needs it (HTTP/1.1); a no-op where it is duplex anyway (h2). */
  enableFullDuplex(): void;
  /**
   * Takes over the raw connection (HTTP/1.1 Upgrade and CONNECT requests only; absent elsewhere).
   * Bytes already read from the socket come first in the returned stream.
   */
  readonly hijack?: () => Duplex;
  /** True once a handler took the connection over (`hijack`); always false where there is none (h2). */
  readonly hijacked: boolean;
  /**
   * Calls `listener` with the connection when a handler takes it over, after its buffered bytes
   * were put back and before `hijack` returns. The response never emits 'close' after that: the
   * server settles the request here instead. Never called where there is no `hijack`.
   */
  onHijack(listener: (conn: Duplex) => void): void;
  /**
   * Closes the connection once this response is sent (HTTP/1.1 `Connection: close`): a request the
   * server could not make sense of, or a server that is stopping. A no-op on h2, where the session's
   * GOAWAY does that.
   */
  closeAfterResponse(): void;
  /**
   * Adds a `Set-Cookie` field (one per call, never joined), with safe defaults: `Path=/`,
   * `HttpOnly`, `SameSite=Lax`, `Secure` when the request came over TLS. Throws a `CookieError`
   * for a cookie browsers would refuse (docs/getting-started.md, "Cookies").
   */
  setCookie(name: string, value: string, options?: CookieOptions): this;
  /** Adds the `Set-Cookie` field that removes `name`: give the `path`/`domain` it was set with. */
  clearCookie(name: string, options?: ClearCookieOptions): this;
}

export type { IncomingHttpHeaders, OutgoingHttpHeaders };

/**
 * The settled promise a handler returns when it finished synchronously. Returning this one
 * (rather than making a new promise with `async`) lets the server skip awaiting altogether —
 * the hot path of a static response allocates no promise.
 */
export const DONE: Promise<void> = Promise.resolve();
