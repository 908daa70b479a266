// biome-ignore-all lint/suspicious/noExplicitAny: the overrides of write/end/writeHead repeat @types/node's own `any` parameters
import { OutgoingMessage, STATUS_CODES, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { appendClearCookie, appendSetCookie, type ClearCookieOptions, type CookieOptions } from '../cookies.js';
import { HttpError } from '../errors.js';
import { foldHead, HeadCallbacks, headFailed, type HeadCallback } from '../head.js';
import type { ResponseWriter } from '../types.js';
import { checkInformational, checkOnHead, dropHeadCallbacks, sniffFirstChunk } from '../writer.js';

/** Bytes the Response body may hold unread before `write` returns false (the consumer is the client). */
const BODY_HIGH_WATER_MARK = 64 * 1024;

/** Fields about a connection, which a Response does not have: the host that serves it frames it. */
const CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Statuses a Response carries with a null body (and HEAD, whatever the status). */
function nullBody(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

/** Node's error for a header change after the head went out, with its code. */
function headersSent(action: string): Error {
  return Object.assign(new Error(`Cannot ${action} headers after they are sent to the client`), { code: 'ERR_HTTP_HEADERS_SENT' });
}

/**
 * Ferry's `ResponseWriter` producing a WHATWG `Response` (toFetch): `response` resolves as soon as
 * the head is decided (`writeHead`, the first `write`, `end`, `flushHeaders`, `flush`), with a
 * `ReadableStream` body that `write` and `end` feed. A Node `Writable`, so 'drain', 'finish',
 * 'close', `pipeline(x, res)` and `finished(res)` behave as on Node's responses: `write` returns
 * false while the body holds 64 KiB the consumer has not read, 'finish' comes once everything is
 * in the body, 'close' after it — or on an abort (the consumer cancelled the body, the Request's
 * signal aborted), which `req.signal` reports as the client leaving.
 *
 * The header fields are kept by a node:http `OutgoingMessage` (Node's own checks of names and
 * values). What fetch cannot say is not offered: no 1xx (`writeInformational` is accepted and
 * dropped), no full duplex (`enableFullDuplex` throws a 501), no takeover (`hijack` is absent).
 */
export class FetchResponseWriter extends Writable implements ResponseWriter {
  statusCode = 200;
  statusMessage = '';
  /** Settles with the Response once the head is decided; rejects if the response is aborted before. */
  readonly response: Promise<Response>;
  readonly #fields = new OutgoingMessage();
  readonly #secure: boolean;
  readonly #headOnly: boolean;
  #sent = false;
  #head: HeadCallbacks | undefined;
  /** The body's controller while it takes chunks; undefined before the head, for a null body, or once closed. */
  #body: ReadableStreamDefaultController<Uint8Array> | undefined;
  /** The callback of the chunk the consumer has yet to make room for. */
  #waiting: ((err?: Error | null) => void) | undefined;
  #resolve!: (response: Response) => void;
  #reject!: (err: Error) => void;
  /** Why the response was aborted from outside (the Request's signal): the body fails with it. */
  #abortReason: Error | undefined;

  constructor(method: string, secure: boolean) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
    this.#headOnly = method === 'HEAD';
    this.#secure = secure;
    this.response = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Read by toFetch's caller; a rejection nobody awaits yet must not end the process.
    this.response.catch(() => {});
  }

  /** Aborts the response as a client leaving would: the body (or the pending Response) fails with `reason`. */
  abort(reason: Error): void {
    if (this.destroyed || this.writableFinished) return;
    this.#abortReason = reason;
    this.destroy();
  }

  get headersSent(): boolean {
    return this.#sent;
  }
  get fullDuplex(): boolean {
    return false;
  }
  enableFullDuplex(): void {
    throw new HttpError(
      501,
      'full duplex is not available through toFetch: a fetch Response is half duplex; serve this route with toNodeHandler or a Ferry server',
    );
  }
  get hijacked(): boolean {
    return false;
  }
  onHijack(): void {
    // No connection to take over: nothing will ever be reported.
  }
  onHead(fn: HeadCallback): void {
    checkOnHead(this.#sent, false);
    (this.#head ??= new HeadCallbacks()).add(fn);
  }
  [dropHeadCallbacks](): void {
    this.#head = undefined;
  }
  closeAfterResponse(): void {
    // No connection: the host that serves the Response decides.
  }
  setCookie(name: string, value: string, options?: CookieOptions): this {
    appendSetCookie(this, this.#secure, name, value, options);
    return this;
  }
  clearCookie(name: string, options?: ClearCookieOptions): this {
    appendClearCookie(this, this.#secure, name, options);
    return this;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    if (this.#sent) throw headersSent('set');
    this.#fields.setHeader(name, value);
    return this;
  }
  appendHeader(name: string, value: string | readonly string[]): this {
    if (this.#sent) throw headersSent('append');
    this.#fields.appendHeader(name, value);
    return this;
  }
  getHeader(name: string): number | string | string[] | undefined {
    return this.#fields.getHeader(name);
  }
  getHeaders(): OutgoingHttpHeaders {
    return this.#fields.getHeaders();
  }
  getHeaderNames(): string[] {
    return this.#fields.getHeaderNames();
  }
  hasHeader(name: string): boolean {
    return this.#fields.hasHeader(name);
  }
  removeHeader(name: string): void {
    if (this.#sent) throw headersSent('remove');
    this.#fields.removeHeader(name);
  }

  writeHead(
    statusCode: number,
    a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    b?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (this.#sent) throw headersSent('write');
    const reason = foldHead(this, statusCode, a, b);
    if (reason !== undefined) this.statusMessage = reason;
    this.#sendHead();
    return this;
  }
  flushHeaders(): void {
    this.#sendHead();
  }
  flush(): void {
    this.#sendHead();
  }
  /** Fetch has no 1xx: checked as Ferry's other writers check it, then dropped (103 hints are an optimisation). */
  writeInformational(status: number, _headers?: OutgoingHttpHeaders): void {
    checkInformational(status);
    if (this.#sent) throw new Error('writeInformational after the final response headers were sent');
  }

  override write(chunk: any, encoding?: any, cb?: any): boolean {
    if (!this.#sent) {
      sniffFirstChunk(this, chunk);
      try {
        this.#sendHead();
      } catch (err) {
        return headFailed(this, err);
      }
    }
    return super.write(chunk, encoding, cb);
  }

  override end(chunk?: any, encoding?: any, cb?: any): this {
    if (!this.#sent && !this.writableEnded) {
      const body = chunk !== undefined && chunk !== null && typeof chunk !== 'function' ? chunk : undefined;
      if (body !== undefined) sniffFirstChunk(this, body);
      // As Node's end(): a whole body given at once gets its length.
      const length = !this.#headOnly && !nullBody(this.statusCode) && !this.hasHeader('content-length');
      if (length)
        this.setHeader(
          'content-length',
          body === undefined ? 0 : Buffer.byteLength(body, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined),
        );
      try {
        this.#sendHead();
      } catch (err) {
        // The error response that follows is another body.
        if (length) this.removeHeader('content-length');
        headFailed(this, err);
        return this;
      }
    }
    return super.end(chunk, encoding, cb);
  }

  /** Runs the head callbacks, then resolves the Response. Throws (head not sent) for what a Response cannot carry. */
  #sendHead(): void {
    if (this.#sent) return;
    const head = this.#head;
    if (head !== undefined) {
      try {
        head.run();
      } finally {
        this.#head = undefined;
      }
    }
    const status = this.statusCode;
    if (!Number.isInteger(status) || status < 200 || status > 599)
      throw new RangeError(`toFetch: a fetch Response has a status from 200 to 599, not ${status}`);
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.#fields.getHeaders())) {
      if (value === undefined || CONNECTION_FIELDS.has(name)) continue;
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.append(name, String(value));
    }
    const body = this.#headOnly || nullBody(status) ? null : this.#bodyStream();
    const response = new Response(body, { status, statusText: this.statusMessage || STATUS_CODES[status] || '', headers });
    this.#sent = true;
    this.#resolve(response);
  }

  #bodyStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#body = controller;
        },
        pull: () => this.#release(),
        cancel: () => {
          // The consumer went away (the client left): an abort, unless everything was written.
          this.#body = undefined;
          if (!this.writableFinished) this.destroy();
        },
      },
      { highWaterMark: BODY_HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
  }

  #release(err?: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(err);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    const body = this.#body;
    // No body to carry it (HEAD, 204, 304): dropped, as Node drops it.
    if (body === undefined || chunk.length === 0) {
      cb();
      return;
    }
    // A copy, as Readable.toWeb makes: the writer may reuse its buffer once called back.
    body.enqueue(new Uint8Array(chunk));
    if ((body.desiredSize ?? 0) > 0) cb();
    else this.#waiting = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    const body = this.#body;
    this.#body = undefined;
    body?.close();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const reason = err ?? this.#abortReason ?? new Error('the response was aborted');
    if (!this.#sent) this.#reject(reason);
    const body = this.#body;
    this.#body = undefined;
    // The host aborted the Request (its client left): it reads no more, so the body just ends — an
    // error there is only logged by the host (@hono/node-server does). Any other abort (a handler
    // or upstream failing mid-body) must not look like a whole response: the body fails.
    if (err === null && this.#abortReason !== undefined) body?.close();
    else body?.error(reason);
    this.#release(reason);
    // As Node's responses: an aborted response says 'close', not 'error' (its reason is `errored`).
    cb(null);
  }

  declare readonly hijack?: () => Duplex;
}
