import type { IncomingMessage } from 'node:http';
import { Http2ServerRequest, constants as h2 } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ResponseWriter } from '../types.js';
import { BodyUsedError, tooLarge } from './errors.js';
import { LimitedBody } from './limited.js';

/**
 * What one request's body has been through: a `request_body` cap, whether a reader took it.
 * Made only when a handler limits or reads the body: a request that does neither pays nothing.
 */
export class BodyState {
  /** request_body's `max_size`, the smallest when several ran. */
  cap: number | undefined;
  #used = false;
  #limited: LimitedBody | undefined;
  #abandoned = false;

  constructor(
    readonly raw: IncomingMessage | Http2ServerRequest,
    readonly res: ResponseWriter,
  ) {}

  /** The body stream handlers read: the raw one, or the capped one once `request_body` ran. */
  get stream(): Readable {
    if (this.cap === undefined) return this.raw as Readable;
    return (this.#limited ??= new LimitedBody(this.raw as Readable, this.cap, () => this.abandon()));
  }

  /** Whether the body was read (by a reader, or as a stream). */
  get used(): boolean {
    return this.#used || this.raw.readableDidRead;
  }

  /** Throws BodyUsedError when the body was read before. */
  checkUnread(): void {
    if (this.used) throw new BodyUsedError();
  }

  /** Marks the body as taken by a reader; throws BodyUsedError when it was read before. */
  take(): void {
    this.checkUnread();
    this.#used = true;
  }

  /**
   * Caps the body at `max` bytes (`request_body`): a Content-Length past it is refused at once,
   * before a byte is read (and so before any 100 Continue); a longer body fails its reader.
   */
  limit(max: number, contentLength: string | undefined): void {
    if (this.cap === undefined || max < this.cap) this.cap = max;
    this.#limited?.lower(max);
    if (contentLength !== undefined && Number(contentLength) > max) throw tooLarge(max);
  }

  /**
   * The reading stopped mid-body (past a limit, or the reader gave up): the rest must neither
   * be parsed as the next request nor keep the client sending. HTTP/1.1: the connection closes
   * after the response. h2: the stream is reset with NO_ERROR once the response is sent, the way
   * RFC 9113 §8.1 asks a server to stop an upload it answered early; without it Node keeps the
   * stream open, the client blocked on flow control, until it times out.
   */
  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    const raw = this.raw;
    if (raw instanceof Http2ServerRequest) {
      const stream = raw.stream;
      if (stream.writableFinished) stream.close(h2.NGHTTP2_NO_ERROR);
      else stream.once('finish', () => stream.close(h2.NGHTTP2_NO_ERROR));
      return;
    }
    if (raw.complete) return;
    this.res.closeAfterResponse();
    // A head already on the wire promised keep-alive; read the rest away instead (it is framed
    // by a Content-Length within the cap: a chunked body's head already asked to close).
    if (this.res.headersSent) raw.resume();
  }
}
