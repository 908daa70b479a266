// biome-ignore-all lint/suspicious/noExplicitAny: the overrides of write/end/writeHead and the listener signatures repeat @types/node's own `any` parameters; narrower ones would not be assignable to ServerResponse and Http2ServerResponse
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import { Http2ServerResponse, type ServerHttp2Stream } from 'node:http2';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { foldHead, HeadCallbacks, headFailed, type HeadCallback } from './head.js';
import { appendClearCookie, appendSetCookie, type ClearCookieOptions, type CookieOptions } from './cookies.js';
import {
  type CheckedField,
  readStored,
  responseField,
  setChecked,
  setParsed,
  storedValue,
  storeChecked,
  storeParsed,
  useFastFieldStore,
} from './field_store.js';
import { bothCallbacks, joinHead, NODE_NOP, sendAsBytes, writeRaw } from './head_join.js';
import { keepDispositionBytes, sendKeepingHeadLatin1 } from './latin1_head.js';
import { sniffContentType } from './sniff.js';
import type { ResponseWriter } from './types.js';

type WriteCb = (err?: Error | null) => void;
type Listener = (...args: any[]) => void;

/** Statuses whose responses carry no body, so no Content-Type is sniffed for them. */
function bodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/** Gives a body-carrying response without Content-Type one sniffed from its first bytes, as Caddy (Go) does. */
export function sniffFirstChunk(
  res: { headersSent: boolean; statusCode: number; getHeader(n: string): unknown; setHeader(n: string, v: string): unknown },
  chunk: unknown,
): void {
  if (res.headersSent || responseField(res, 'content-type') !== undefined || responseField(res, 'content-encoding') !== undefined) return;
  if (bodiless(res.statusCode)) return;
  if (typeof chunk === 'string' ? chunk.length === 0 : !(chunk instanceof Uint8Array) || chunk.length === 0) return;
  res.setHeader('content-type', sniffContentType(chunk as string | Uint8Array));
}

function informationalHead(status: number, headers: OutgoingHttpHeaders | undefined): string {
  let head = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Informational'}\r\n`;
  if (headers) {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${String(v)}\r\n`;
    }
  }
  return `${head}\r\n`;
}

/** Whether a connection is TLS (a `TLSSocket`); false once it is gone. */
export function overTls(socket: unknown): boolean {
  return (socket as { encrypted?: boolean } | null | undefined)?.encrypted === true;
}

/** An unread request body up to this size is drained after the response to keep the connection. */
const DRAIN_LIMIT = 1024 * 1024;

const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
};

/**
 * Whether a 100 Continue must go out just ahead of a final head. Core answers Expect: 100-continue
 * when the handler first reads the body (request.ts); a handler that turned full duplex on reads
 * while it answers and may send its head first (duplex() does). No 100 may follow the final head
 * (RFC 9110 §15.2.1), and without one the client holds its body until its own timeout (curl: 1 s).
 * A 4xx/5xx refuses the request: a refusal invites no upload (RFC 9110 §10.1.1).
 */
function continueFirst(duplexAsked: boolean, waiting: boolean, status: number): boolean {
  return duplexAsked && waiting && status < 400;
}

/** Node's own Expect: 100-continue bookkeeping on a `ServerResponse`. */
interface NodeContinueState {
  /** The request asked for 100 Continue. */
  _expect_continue: boolean;
  /** A 100 went out: Node keeps the connection after the response only then. */
  _sent100: boolean;
}

/**
 * The server drops the head callbacks of a chain that threw before the head went out: its error
 * response is a new response (as Caddy's error routes get the writer without the chain's wrappers).
 */
export const dropHeadCallbacks = Symbol('ferry.dropHeadCallbacks');

export function checkOnHead(headersSent: boolean, hijacked: boolean): void {
  if (hijacked) throw new Error('onHead after the connection was hijacked: this response sends no head');
  if (headersSent) throw new Error('onHead after the response head was sent');
}

export function checkInformational(status: number): void {
  if (!Number.isInteger(status) || status < 100 || status > 199) {
    throw new RangeError(`writeInformational takes a 1xx status, got ${status}`);
  }
}

/** Http1Writer's flags: the handler turned full duplex on; took the connection over; is inside end(). */
const FULL_DUPLEX = 1;
const HIJACKED = 2;
const ENDING = 4;

/** A send held by Http1Writer's `_send`: its data, encoding and callback. */
interface HeldSend {
  data: string | Uint8Array;
  encoding: BufferEncoding | undefined;
  callback: WriteCb | undefined;
}

/**
 * The HTTP/1.1 response writer: Node's own `ServerResponse` (so the hot path pays for no extra
 * object) with Ferry's additions.
 */
export class Http1Writer extends ServerResponse<IncomingMessage> implements ResponseWriter {
  // Four fields, not eight: each private field is defined on every response, by a keyed store
  // that callgrind shows megamorphic behind Node's constructor.
  /** FULL_DUPLEX, HIJACKED, ENDING. */
  #flags = 0;
  /** Who is told of a takeover (the server, to stop counting the request); set only where `hijack` is. */
  #onHijack: ((conn: Duplex) => void)[] | undefined;
  /** The `onHead` callbacks; made by the first one. */
  #head: HeadCallbacks | undefined;
  /** The send held inside end() for end's own last one (_send). */
  #held: HeldSend | undefined;
  /** Set for Upgrade and CONNECT requests, which Node hands over with the socket. */
  declare hijack?: () => Duplex;

  get fullDuplex(): boolean {
    return (this.#flags & FULL_DUPLEX) !== 0;
  }

  enableFullDuplex(): void {
    this.#flags |= FULL_DUPLEX;
  }

  /** True once a handler took the connection over. */
  get hijacked(): boolean {
    return (this.#flags & HIJACKED) !== 0;
  }

  /** Node writes a chunk from its memory and calls back once it is on the wire (ResponseWriter.lendable). */
  get lendable(): boolean {
    return true;
  }

  onHijack(listener: (conn: Duplex) => void): void {
    (this.#onHijack ??= []).push(listener);
  }

  onHead(fn: HeadCallback): void {
    checkOnHead(this.headersSent, this.hijacked);
    (this.#head ??= new HeadCallbacks()).add(fn);
  }

  [dropHeadCallbacks](): void {
    this.#head = undefined;
  }

  closeAfterResponse(): void {
    this.shouldKeepAlive = false;
  }

  override setHeader(name: string, value: number | string | readonly string[]): this {
    useFastFieldStore(this);
    return super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    useFastFieldStore(this);
    return super.appendHeader(name, value);
  }

  [readStored](key: string): unknown {
    return storedValue(this, key);
  }

  /** A field checked when provisioned (field_store.ts), stored without checking it again. */
  [setChecked](f: CheckedField): void {
    if (!storeChecked(this, f)) this.setHeader(f.name, f.value);
  }

  /** A field a parser checked as Node would (field_store.ts setParsedField), stored without checking it again. */
  [setParsed](key: string, value: string | readonly string[]): void {
    storeParsed(this, key, value);
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    appendSetCookie(this, overTls(this.req.socket), name, value, options);
    return this;
  }

  clearCookie(name: string, options?: ClearCookieOptions): this {
    appendClearCookie(this, overTls(this.req.socket), name, options);
    return this;
  }

  flush(): void {
    // Not `headersSent`: Node sets it as soon as writeHead() has *built* the head, which then waits
    // for the first body write. `_headerSent` says whether the head is on the wire.
    if (!(this as unknown as { _headerSent: boolean })._headerSent) this.flushHeaders();
  }

  // Every final head goes through here: Node's implicit head (first write, end, flushHeaders) calls
  // writeHead too, and 1xx responses go out by writeInformational, not here.
  override writeHead(statusCode: number, a?: any, b?: any): this {
    const head = this.#head;
    if (head !== undefined && !this.headersSent) {
      // Status and fields as the callbacks leave them: Node builds the head from the writer's own.
      a = foldHead(this, statusCode, a, b);
      b = undefined;
      try {
        head.run();
      } catch (err) {
        // end() set the length of its body before asking for the head; the error response that
        // follows is another body.
        (this as unknown as { _contentLength: number | null })._contentLength = null;
        throw err;
      } finally {
        this.#head = undefined;
      }
      statusCode = this.statusCode;
    }
    const req = this.req;
    // (GET and HEAD skip the look: they carry no body worth limiting, and reading the header
    // object would make Node build it for every request.)
    if (!req.complete && this.hijack === undefined && req.method !== 'GET' && req.method !== 'HEAD') {
      // The body is not all read yet. Node drains what is left after the response to keep the
      // connection in step; past a limit (or of unknown length: chunked) closing beats reading
      // what may never be wanted. Without Content-Length or Transfer-Encoding there is no body
      // (RFC 9112 §6.3), even though Node marks the request complete only after this tick.
      const cl = req.headers['content-length'];
      if (req.headers['transfer-encoding'] !== undefined || (cl !== undefined && !(Number(cl) <= DRAIN_LIMIT))) {
        this.shouldKeepAlive = false;
      }
    }
    const node = this as unknown as NodeContinueState;
    if (!this.headersSent && continueFirst(this.fullDuplex, node._expect_continue && !node._sent100, statusCode))
      this.writeInformational(100);
    keepDispositionBytes(this);
    return super.writeHead(statusCode, a, b);
  }

  writeInformational(status: number, headers?: OutgoingHttpHeaders): void {
    checkInformational(status);
    if (this.headersSent) throw new Error('writeInformational after the final response headers were sent');
    // Same path Node's own writeEarlyHints/writeContinue take: raw bytes ahead of the response.
    (this as unknown as { _writeRaw(data: string, enc: string): boolean })._writeRaw(informationalHead(status, headers), 'latin1');
    // As writeContinue() does: Node's writeHead closes the connection of a request that expected
    // 100 and did not get it (the client may still send the body); this one got it.
    if (status === 100) (this as unknown as NodeContinueState)._sent100 = true;
  }

  override write(chunk: any, encoding?: any, cb?: any): boolean {
    if (!this.headersSent) {
      sniffFirstChunk(this, chunk);
      if (this.#head !== undefined) {
        try {
          return super.write(chunk, encoding, cb);
        } catch (err) {
          return headFailed(this, err);
        }
      }
    }
    return super.write(chunk, encoding, cb);
  }

  /**
   * Node's own send, overridden. Inside end(), the body's send is held for the empty send end()
   * makes next to carry its callback, and the two go out as one: the socket sees a single write,
   * not a writev of the body and nothing. Held only when that send follows (NODE_NOP): Node 24
   * and later skip it for a final body themselves.
   */
  _send(data: string | Uint8Array, encoding?: BufferEncoding, callback?: WriteCb, byteLength?: number): boolean {
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      if (data === '') return this.#sendNow(held.data, held.encoding, bothCallbacks(held.callback, callback));
      this.#sendNow(held.data, held.encoding, held.callback);
    } else if ((this.#flags & ENDING) !== 0 && callback === NODE_NOP && NODE_NOP !== undefined && data !== '' && !this.chunkedEncoding) {
      this.#held = { data, encoding, callback };
      return true;
    }
    return this.#sendNow(data, encoding, callback, byteLength);
  }

  /**
   * A small first byte chunk goes out in one buffer with the head (head_join.ts); beside a larger
   * byte chunk, the head and a chunked body's framing are bytes too (sendAsBytes); the head goes
   * out as latin1 beside a string chunk too (latin1_head.ts).
   */
  #sendNow(data: string | Uint8Array, encoding: BufferEncoding | undefined, callback: WriteCb | undefined, byteLength?: number): boolean {
    const joined = joinHead(this, data);
    if (joined !== undefined) return writeRaw(this, joined, callback);
    return sendAsBytes(this, data, encoding, callback) ?? sendKeepingHeadLatin1(this, data, encoding, callback, byteLength);
  }

  override end(chunk?: any, encoding?: any, cb?: any): this {
    if (chunk !== undefined && typeof chunk !== 'function' && !this.headersSent) sniffFirstChunk(this, chunk);
    this.#flags |= ENDING;
    try {
      if (this.#head !== undefined && !this.headersSent) {
        try {
          return super.end(chunk, encoding, cb);
        } catch (err) {
          headFailed(this, err);
          return this;
        }
      }
      return super.end(chunk, encoding, cb);
    } finally {
      this.#flags &= ~ENDING;
      // Held for end()'s last send, which did not come (it threw): nothing written is lost.
      if (this.#held !== undefined) this._send('');
    }
  }

  /**
   * Makes this writer answer a request Node delivered through `'upgrade'` or `'connect'`: the
   * socket is ours, `head` holds what the parser read past the headers (caddy#6273: dropping it
   * loses the client's first bytes).
   */
  attachUpgradeSocket(socket: Socket, head: Buffer): void {
    this.shouldKeepAlive = false;
    // RFC 9110 §9.3.6: a 2xx answer to CONNECT has no Transfer-Encoding; what follows it is the
    // tunnel, so body writes go on the wire as they are, not chunked.
    if (this.req.method === 'CONNECT') this.useChunkedEncodingByDefault = false;
    this.assignSocket(socket);
    // Node's server closes a `Connection: close` socket after the response (resOnFinish), but not
    // one it handed to 'upgrade'/'connect': a response the handler did not take over would leave
    // the client waiting and the request counted as in flight. Close it as Node would.
    this.once('finish', () => {
      if (!this.hijacked) socket.destroySoon();
    });
    this.hijack = () => {
      if (this.hijacked) throw new Error('connection already hijacked');
      this.#flags |= HIJACKED;
      this.detachSocket(socket);
      socket.setTimeout(0);
      if (head.length > 0) socket.unshift(head);
      // This response will never send a head: its callbacks are let go.
      this.#head = undefined;
      // Node's HTTP server gives each socket an own setEncoding that throws (it guards HTTP
      // framing) and never takes it back after an upgrade: the new protocol may use it. Put back
      // by assignment, not `delete`: deleting a property turns the socket into a slow
      // dictionary-mode object for its whole life (every read and write of the relay pays).
      if (Object.hasOwn(socket, 'setEncoding')) socket.setEncoding = Socket.prototype.setEncoding;
      if (this.#onHijack) for (const listener of this.#onHijack) listener(socket);
      return socket;
    };
  }
}

/** Connection-specific headers are illegal on h2 (RFC 9113 §8.2.2); they are dropped, not sent. */
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * A stream the client reset with NO_ERROR (Node's own client does, on `destroy()`) while response
 * bytes still waited on its flow-control window: Node waits for the writable side to finish before
 * it destroys the stream, which those queued writes never do on a closed stream — no 'close', no
 * `req.signal` abort, a request counted forever. A closed stream sends nothing more: destroying it
 * settles its queued writes and emits 'close'.
 */
function destroyClosed(stream: ServerHttp2Stream): void {
  if (stream.closed && !stream.destroyed) stream.destroy();
}

/** A 1xx on an h2 stream: a HEADERS frame ahead of the final one, connection-specific fields dropped. */
export function sendH2Informational(stream: ServerHttp2Stream, status: number, headers: OutgoingHttpHeaders | undefined): void {
  const block: OutgoingHttpHeaders = { ':status': status };
  if (headers) for (const [k, v] of Object.entries(headers)) if (!H2_FORBIDDEN.has(k.toLowerCase())) block[k] = v;
  stream.additionalHeaders(block);
}

/** The h2/h2c response writer, over Node's compatibility-layer response. */
export class Http2Writer extends Http2ServerResponse implements ResponseWriter {
  #duplexAsked = false;
  #sent100 = false;
  /** The `onHead` callbacks; made by the first one. */
  #head: HeadCallbacks | undefined;

  /** Node writes a chunk from its memory and calls back once the stream took it (ResponseWriter.lendable). */
  get lendable(): boolean {
    return true;
  }

  constructor(stream: ServerHttp2Stream, ...rest: unknown[]) {
    super(stream, ...(rest as []));
    // 'aborted': closed before the response ended; 'end': Node's last word on a stream closed with
    // NO_ERROR whose request side was still unread (onStreamClose pushes its end, then waits).
    const check = () => process.nextTick(destroyClosed, stream);
    stream.once('aborted', check);
    stream.once('end', check);
  }

  get fullDuplex(): boolean {
    return true;
  }

  enableFullDuplex(): void {
    // h2 streams are full duplex by nature (field lesson 1): nothing to do, nothing to report. The
    // call is only remembered as the handler's word that it reads while answering (continueFirst).
    this.#duplexAsked = true;
  }

  declare readonly hijack?: () => Duplex;

  get hijacked(): boolean {
    return false;
  }

  onHijack(): void {
    // No connection to take over on h2: nothing will ever be reported.
  }

  onHead(fn: HeadCallback): void {
    checkOnHead(this.headersSent, false);
    (this.#head ??= new HeadCallbacks()).add(fn);
  }

  [dropHeadCallbacks](): void {
    this.#head = undefined;
  }

  closeAfterResponse(): void {
    // The stream ends with the response; closing the connection is the session's GOAWAY.
  }

  setCookie(name: string, value: string, options?: CookieOptions): this {
    appendSetCookie(this, this.stream?.session?.encrypted === true, name, value, options);
    return this;
  }

  clearCookie(name: string, options?: ClearCookieOptions): this {
    appendClearCookie(this, this.stream?.session?.encrypted === true, name, options);
    return this;
  }

  // The compat response lacks these three; they are defined on the prototype below.
  declare readonly writableNeedDrain: boolean;
  declare readonly destroyed: boolean;
  declare readonly closed: boolean;
  /** Present at runtime, missing from @types/node. */
  declare flushHeaders: () => void;

  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (H2_FORBIDDEN.has(name.toLowerCase())) return this;
    super.setHeader(name, value as string);
    return this;
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    if (H2_FORBIDDEN.has(name.toLowerCase())) return this;
    super.appendHeader(name, value as string);
    return this;
  }

  override writeHead(
    statusCode: number,
    a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    b?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (this.#head !== undefined && !this.headersSent) {
      // Every final head goes through here (the compat layer's write, end and flushHeaders call
      // writeHead); the callbacks see and change the fields it is built from.
      foldHead(this, statusCode, a, b);
      a = b = undefined;
      this.#runHead();
      statusCode = this.statusCode;
    }
    const headers = typeof a === 'string' ? b : a;
    if (headers && !Array.isArray(headers)) {
      for (const name of Object.keys(headers)) if (H2_FORBIDDEN.has(name.toLowerCase())) delete headers[name];
    }
    // The exact value Node's compat layer routes through 'checkContinue'.
    const waiting = !this.#sent100 && this.req.headers.expect === '100-continue';
    if (!this.headersSent && continueFirst(this.#duplexAsked, waiting, statusCode)) this.writeInformational(100);
    super.writeHead(statusCode, headers as OutgoingHttpHeaders);
    return this;
  }

  override write(chunk: any, encoding?: any, cb?: any): boolean {
    if (!this.headersSent) {
      sniffFirstChunk(this, chunk);
      if (this.#head !== undefined) {
        try {
          return super.write(chunk, encoding, cb);
        } catch (err) {
          return headFailed(this, err);
        }
      }
    }
    return super.write(chunk, encoding, cb);
  }

  override end(chunk?: any, encoding?: any, cb?: any): this {
    if (chunk !== undefined && chunk !== null && typeof chunk !== 'function' && !this.headersSent) sniffFirstChunk(this, chunk);
    if (this.#head !== undefined && !this.headersSent) {
      // Node's end() marks the response ending before it asks for the head: the callbacks run
      // first, so one that throws leaves the response as it was, for the error response.
      try {
        this.#runHead();
      } catch (err) {
        headFailed(this, err);
        return this;
      }
    }
    super.end(chunk, encoding, cb);
    return this;
  }

  #runHead(): void {
    const head = this.#head!;
    try {
      head.run();
    } finally {
      this.#head = undefined;
    }
  }

  flush(): void {
    if (!this.headersSent) this.flushHeaders();
  }

  /**
   * The compat layer emits 'finish' whenever the stream closes (onStreamCloseResponse), a reset
   * one included: `pipeline(x, res)` and `finished(res)` then took a response the client walked
   * away from for a complete one. As on HTTP/1.1, only a finished response says 'finish'.
   */
  override emit(event: string | symbol, ...args: any[]): boolean {
    if (event === 'finish' && !this.writableFinished) return false;
    return super.emit(event, ...args);
  }

  /**
   * Aborting a response must look like one to the client: without an error Node resets the stream
   * with NO_ERROR, which h2 clients take for a clean end. An abort always resets with an error.
   */
  override destroy(err?: Error): this {
    super.destroy(err ?? new Error('response aborted'));
    return this;
  }

  writeInformational(status: number, headers?: OutgoingHttpHeaders): void {
    checkInformational(status);
    if (this.headersSent) throw new Error('writeInformational after the final response headers were sent');
    sendH2Informational(this.stream, status, headers);
    if (status === 100) this.#sent100 = true;
  }
}

const compatWritableFinished = Object.getOwnPropertyDescriptor(Http2ServerResponse.prototype, 'writableFinished')?.get;

Object.defineProperties(Http2Writer.prototype, {
  // When a client resets a stream (or drops the session) Node ends the stream's writable side
  // itself after emitting 'aborted' (closeStream in lib/internal/http2/core.js), so the compat
  // layer's writableFinished turns true for a response that never completed. An aborted stream
  // did not finish: req.signal, the 499 of the access log and write_timeout depend on it.
  writableFinished: {
    get(this: Http2Writer) {
      const stream = this.stream;
      if (!stream || stream.aborted) return false;
      return compatWritableFinished ? (compatWritableFinished.call(this) as boolean) : stream.writableFinished;
    },
  },
  writableNeedDrain: {
    get(this: Http2Writer) {
      return this.stream?.writableNeedDrain ?? false;
    },
  },
  // What stream.finished() asks first: without it, finished(res) on a response that already
  // closed waits forever (the compat response looks readable to it, having Stream's pipe()).
  closed: {
    get(this: Http2Writer) {
      return this.stream?.closed ?? true;
    },
  },
  destroyed: {
    get(this: Http2Writer) {
      return this.stream?.destroyed ?? true;
    },
  },
});

/**
 * A response writer that forwards everything — capabilities included — to the writer it wraps
 * (Caddy's `ResponseWriterWrapper`). Subclass it and override only what you change.
 */
export class ResponseWriterWrapper implements ResponseWriter {
  constructor(protected readonly inner: ResponseWriter) {}

  /** The writer this one wraps. */
  unwrap(): ResponseWriter {
    return this.inner;
  }

  get statusCode(): number {
    return this.inner.statusCode;
  }
  set statusCode(v: number) {
    this.inner.statusCode = v;
  }
  get statusMessage(): string {
    return this.inner.statusMessage;
  }
  set statusMessage(v: string) {
    this.inner.statusMessage = v;
  }
  get headersSent(): boolean {
    return this.inner.headersSent;
  }
  get writableEnded(): boolean {
    return this.inner.writableEnded;
  }
  get writableFinished(): boolean {
    return this.inner.writableFinished;
  }
  get writableNeedDrain(): boolean {
    return this.inner.writableNeedDrain;
  }
  get destroyed(): boolean {
    return this.inner.destroyed;
  }
  get writable(): boolean {
    return this.inner.writable;
  }
  get closed(): boolean {
    return this.inner.closed;
  }
  get fullDuplex(): boolean {
    return this.inner.fullDuplex;
  }
  get hijack(): (() => Duplex) | undefined {
    return this.inner.hijack;
  }
  get hijacked(): boolean {
    return this.inner.hijacked;
  }
  onHijack(listener: (conn: Duplex) => void): void {
    this.inner.onHijack(listener);
  }
  /**
   * Hands `fn` to the writer underneath: this wrapper sends its head when that one does. A
   * wrapper that holds the head back (it decides status and fields later than the writer
   * underneath, as a compressor does) overrides this to keep its own `HeadCallbacks` and runs
   * them where it decides, before its own look at the head.
   */
  onHead(fn: HeadCallback): void {
    this.inner.onHead(fn);
  }
  closeAfterResponse(): void {
    this.inner.closeAfterResponse();
  }
  // Delegated, so each wrapper down the chain sees the call and the innermost writer, which knows
  // the connection, decides the TLS default.
  setCookie(name: string, value: string, options?: CookieOptions): this {
    this.inner.setCookie(name, value, options);
    return this;
  }
  clearCookie(name: string, options?: ClearCookieOptions): this {
    this.inner.clearCookie(name, options);
    return this;
  }

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.inner.setHeader(name, value);
    return this;
  }
  appendHeader(name: string, value: string | readonly string[]): this {
    this.inner.appendHeader(name, value);
    return this;
  }
  getHeader(name: string): number | string | string[] | undefined {
    return this.inner.getHeader(name);
  }
  getHeaders(): OutgoingHttpHeaders {
    return this.inner.getHeaders();
  }
  getHeaderNames(): string[] {
    return this.inner.getHeaderNames();
  }
  hasHeader(name: string): boolean {
    return this.inner.hasHeader(name);
  }
  removeHeader(name: string): void {
    this.inner.removeHeader(name);
  }
  writeHead(
    statusCode: number,
    a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    b?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    this.inner.writeHead(statusCode, a as string, b);
    return this;
  }
  write(chunk: unknown, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): boolean {
    return this.inner.write(chunk, encoding as BufferEncoding, cb);
  }
  end(chunk?: unknown, encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    this.inner.end(chunk, encoding as BufferEncoding, cb);
    return this;
  }
  flushHeaders(): void {
    this.inner.flushHeaders();
  }
  flush(): void {
    this.inner.flush();
  }
  writeInformational(status: number, headers?: OutgoingHttpHeaders): void {
    this.inner.writeInformational(status, headers);
  }
  enableFullDuplex(): void {
    this.inner.enableFullDuplex();
  }
  destroy(error?: Error): this {
    this.inner.destroy(error);
    return this;
  }
  /**
   * The emitter whose listeners hear `event`: the writer underneath, for every event. A wrapper
   * that emits an event itself (a compressor's 'drain') returns its own emitter for it, and every
   * listener method below follows.
   */
  protected emitterFor(_event: string | symbol): NodeJS.EventEmitter {
    return this.inner;
  }
  on(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).on(event, listener);
    return this;
  }
  addListener(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).addListener(event, listener);
    return this;
  }
  prependListener(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).prependListener(event, listener);
    return this;
  }
  once(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).once(event, listener);
    return this;
  }
  prependOnceListener(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).prependOnceListener(event, listener);
    return this;
  }
  off(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).off(event, listener);
    return this;
  }
  removeListener(event: string | symbol, listener: Listener): this {
    this.emitterFor(event).removeListener(event, listener);
    return this;
  }
  removeAllListeners(event?: string | symbol): this {
    if (event === undefined) this.inner.removeAllListeners();
    else this.emitterFor(event).removeAllListeners(event);
    return this;
  }
  emit(event: string | symbol, ...args: any[]): boolean {
    return this.emitterFor(event).emit(event, ...args);
  }
  listeners(event: string | symbol): Listener[] {
    return this.emitterFor(event).listeners(event) as Listener[];
  }
  rawListeners(event: string | symbol): Listener[] {
    return this.emitterFor(event).rawListeners(event) as Listener[];
  }
  listenerCount(event: string | symbol, listener?: Listener): number {
    return this.emitterFor(event).listenerCount(event, listener);
  }
  eventNames(): (string | symbol)[] {
    return this.inner.eventNames();
  }
  setMaxListeners(n: number): this {
    this.inner.setMaxListeners(n);
    return this;
  }
  getMaxListeners(): number {
    return this.inner.getMaxListeners();
  }
}
