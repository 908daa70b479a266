// biome-ignore-all lint/suspicious/noExplicitAny: the overrides of write/end/writeHead repeat @types/node's own `any` parameters
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import {
  foldHead,
  HeadCallbacks,
  ResponseWriterWrapper,
  sniffContentType,
  type FerryRequest,
  type HeadCallback,
  type ResponseMatcher,
  type ResponseWriter,
} from '@ferry/core';
import { type AssemblyLease, leaseAssembly } from './assembly_buffers.js';
import type { Encoder } from './encoders.js';
import { oneShotQueue } from './one_shot_queue.js';

type WriteCb = (err?: Error | null) => void;

/** What the wrapper needs from the middleware's config. */
export interface EncodeSettings {
  minimumLength: number;
  match: ResponseMatcher;
}

/** What the wrapper needs to know about this one request. */
export interface EncodeRequestInfo {
  /**
   * The client's `If-None-Match` named our encoded ETag (`"abc-gzip"`), which the middleware
   * stripped back to the handler's (`"abc"`): a 304 then gets the suffix back.
   */
  encodedValidator?: boolean;
}

enum State {
  /** Headers not sent; body bytes buffered (at most about minimum_length) until we can decide. */
  Pending,
  /** Decided: the body goes through unchanged. */
  Identity,
  /** Decided: the body goes through the compressor. */
  Compress,
  /** The handler threw: nothing more goes out through this wrapper. */
  Abandoned,
}

function hasToken(value: number | string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const list = Array.isArray(value) ? value.join(',') : String(value);
  return list.split(',').some((v) => v.trim().toLowerCase() === token);
}

function toBuffer(chunk: unknown, encoding?: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('response body chunks must be strings, Buffers or Uint8Arrays');
}

/** The largest declared body held whole to be compressed in one call (see #awaitsWhole). */
const WHOLE_LIMIT = 1024 * 1024;

/**
 * The encode response writer. It holds the status and headers only while it cannot yet tell
 * whether compression pays (the first `minimum_length` bytes), and never past a `flush()`,
 * a 1xx, or an event stream's first write — so no peer ever waits on a held status.
 */
export class EncodeWriter extends ResponseWriterWrapper {
  #state = State.Pending;
  #buffered: Buffer[] = [];
  #bufferedLength = 0;
  /** A declared body's bytes, copied here from chunks written with a callback (they may be lent). */
  #assembly: AssemblyLease | undefined;
  /** How much of the buffered body is in `#assembly`, from its start. */
  #assembled = 0;
  #ended = false;
  #eventStream = false;
  #compressor: Transform | undefined;
  #needDrain = false;
  readonly #events = new EventEmitter();
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  /** The handler's `onHead` callbacks while the head is held; they run where encode decides. */
  #head: HeadCallbacks | undefined;
  #failure: unknown;

  constructor(
    inner: ResponseWriter,
    private readonly req: FerryRequest,
    private readonly encoder: Encoder | undefined,
    private readonly settings: EncodeSettings,
    private readonly info: EncodeRequestInfo = {},
  ) {
    super(inner);
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    inner.once('close', () => {
      // The client went away (or the response finished): the compressor has nothing left to do.
      this.#compressor?.destroy();
      this.#resolveDone();
    });
  }

  /** Settles once the last byte has been handed to the underlying writer (or the client left). */
  get done(): Promise<void> {
    return this.#done;
  }

  /**
   * What stopped the response after the handler was done with it: a head callback of the writer
   * underneath threw when encode sent the head (from the compressor, or once the one-shot
   * compression finished). The middleware throws it, so it reaches the error routes.
   */
  get failure(): unknown {
    return this.#failure;
  }

  override get writableEnded(): boolean {
    return this.#ended;
  }

  /**
   * Lendable when the writer underneath is (ResponseWriter.lendable): a chunk written with a
   * callback is copied while the head is held (the callback comes at once), and otherwise goes on
   * with its callback to the compressor (which calls back once it consumed it) or to the writer.
   */
  get lendable(): boolean {
    return this.inner.lendable === true;
  }

  override get writableNeedDrain(): boolean {
    return this.#state === State.Compress ? this.#needDrain : this.#state === State.Pending ? false : this.inner.writableNeedDrain;
  }

  override get headersSent(): boolean {
    return this.#state !== State.Pending && this.inner.headersSent;
  }

  /** The handler threw: drop what is buffered so the error page is not garbled. */
  abandon(): void {
    if (this.#state === State.Pending) {
      this.#buffered = [];
      this.#bufferedLength = 0;
      this.#assembly = undefined;
    }
    this.#stop();
    this.#resolveDone();
  }

  /** Nothing more goes out through this wrapper; an error response may follow on the writer underneath. */
  #stop(): void {
    // Decided to compress, head not out yet: the error response that follows is not compressed
    // (and any Content-Length is the compressed body's).
    if (this.#state === State.Compress && !this.inner.headersSent) {
      this.inner.removeHeader('content-encoding');
      this.inner.removeHeader('content-length');
    }
    this.#state = State.Abandoned;
    this.#head = undefined;
    this.#compressor?.destroy();
  }

  /**
   * While encode holds the head, callbacks wait for its decision and run first thing in it, so
   * the decision sees what they set (a Content-Type, a Cache-Control: no-transform). Once it has
   * decided, the head is the writer underneath's to send, and so are the callbacks.
   */
  override onHead(fn: HeadCallback): void {
    if (this.#state === State.Pending) (this.#head ??= new HeadCallbacks()).add(fn);
    else this.inner.onHead(fn);
  }

  /**
   * Runs the held head callbacks, once. One that throws leaves the head unsent: a handler's call
   * throws it; a stream's (pipeline into this writer: it has 'error' listeners) gets it as its
   * 'error' instead of an exception escaping its event, and false says to stop.
   */
  #runHead(): boolean {
    const head = this.#head;
    if (head === undefined) return true;
    try {
      head.run();
      return true;
    } catch (err) {
      if (this.listenerCount('error') === 0) throw err;
      this.emit('error', err);
      return false;
    } finally {
      this.#head = undefined;
    }
  }

  /** A send to the writer underneath threw after the handler's call returned: stop, and keep the error for the middleware. */
  #fail(err: unknown): void {
    this.#failure = err;
    this.#stop();
    // A handler still writing would wait on a 'drain' that never comes: the response is cut.
    if (!this.#ended && !this.inner.destroyed) this.inner.destroy(err instanceof Error ? err : undefined);
    this.#resolveDone();
  }

  // 'drain' is ours when the compressor is the one pushing back; everything else is the inner writer's.
  protected override emitterFor(event: string | symbol): NodeJS.EventEmitter {
    return event === 'drain' ? this.#events : this.inner;
  }

  override writeHead(
    statusCode: number,
    a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    b?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const headers = typeof a === 'string' ? b : a;
    if (statusCode < 200) {
      // 1xx pass straight through: nobody waits behind us for them.
      this.inner.writeInformational(statusCode, Array.isArray(headers) ? undefined : headers);
      return this;
    }
    if (this.#state !== State.Pending) {
      this.inner.writeHead(statusCode, a as string, b);
      return this;
    }
    const reason = foldHead(this.inner, statusCode, a, b);
    if (reason !== undefined) this.inner.statusMessage = reason;
    // An event stream's headers go out at once (field lesson 5's twin: a client waits for them).
    if (this.#isEventStream()) this.#decide(true, true);
    return this;
  }

  override write(chunk: unknown, encoding?: BufferEncoding | WriteCb, cb?: WriteCb): boolean {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.#ended) throw new Error('write after end');
    const buf = toBuffer(chunk, encoding);
    switch (this.#state) {
      case State.Pending: {
        const known = this.#knownLength();
        if (buf.length > 0) {
          // Its callback comes at once, so a chunk that may be lent is kept as a copy.
          this.#buffered.push(cb ? this.#copy(buf, known) : buf);
          this.#bufferedLength += buf.length;
        }
        if (this.#isEventStream()) {
          if (!this.#decide(true, true)) return false;
        } else if (this.#awaitsWhole(known)) {
          // The rest of a declared body is on its way: end() compresses it in one call.
        } else if (this.#bufferedLength >= this.settings.minimumLength || known !== undefined) {
          if (!this.#decide(false, false)) return false;
        }
        if (cb) queueMicrotask(() => cb!());
        return true;
      }
      case State.Identity: {
        return this.inner.write(buf, cb);
      }
      case State.Compress: {
        const ok = this.#compressor!.write(buf, cb);
        if (this.#eventStream) this.#syncFlush();
        if (!ok) this.#needDrain = true;
        return ok;
      }
      case State.Abandoned:
        return false;
    }
  }

  override end(chunk?: unknown, encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    if (typeof chunk === 'function') {
      cb = chunk as () => void;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (this.#ended) return this;
    const buf = chunk === undefined || chunk === null ? undefined : toBuffer(chunk, encoding as BufferEncoding | undefined);
    // Before anything else: a callback that throws leaves this end() undone, the head unsent.
    if (this.#state === State.Pending && !this.#runHead()) return this;
    this.#ended = true;
    switch (this.#state) {
      case State.Pending: {
        if (buf && buf.length > 0) {
          this.#buffered.push(buf);
          this.#bufferedLength += buf.length;
        }
        // The whole body is here: its length is known. A HEAD handler may declare the length or
        // write the GET's body (which Node then drops): either tells what the GET would get.
        const known =
          this.req.method === 'HEAD'
            ? (this.#knownLength() ?? (this.#bufferedLength > 0 ? this.#bufferedLength : undefined))
            : this.#bufferedLength;
        this.#finishWhole(known, cb);
        break;
      }
      case State.Identity:
        this.inner.end(buf, cb);
        this.#resolveDone();
        break;
      case State.Compress:
        if (buf) this.#compressor!.end(buf);
        else this.#compressor!.end();
        if (cb) this.#compressor!.once('end', cb);
        break;
      case State.Abandoned:
        break;
    }
    return this;
  }

  override flushHeaders(): void {
    this.flush();
  }

  /** Status and headers go out now (deciding the encoding from what is known) and the compressor is sync-flushed. */
  override flush(): void {
    if (this.#state === State.Pending && !this.#decide(true, false)) return;
    if (this.#state === State.Compress) this.#syncFlush();
    else if (this.#state === State.Identity) this.inner.flush();
  }

  #isEventStream(): boolean {
    const type = this.inner.getHeader('content-type');
    return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
  }

  /**
   * Whether to keep holding a body whose length was declared (a proxied response's
   * Content-Length) until its end, to compress it in one call (oneShotQueue) rather than chunk by
   * chunk through a stream: zstd then sizes its tables for the body, and no more compressors run
   * at once than the cores can take. Only up to WHOLE_LIMIT (what one response may hold in
   * memory); a flush() decides at once.
   */
  #awaitsWhole(known: number | undefined): boolean {
    return known !== undefined && known <= WHOLE_LIMIT && known >= this.settings.minimumLength && this.#bufferedLength <= known;
  }

  /**
   * A copy of a chunk kept while the head is held. A declared body (up to WHOLE_LIMIT) is copied
   * into one buffer of its length as it arrives, so that end() needs no concatenation: one
   * allocation per response, not one per chunk and one more for the whole.
   */
  #copy(buf: Buffer, known: number | undefined): Buffer {
    const at = this.#assembled;
    if (known === undefined || known > WHOLE_LIMIT || at !== this.#bufferedLength || at + buf.length > known) return Buffer.from(buf);
    const bytes = (this.#assembly ??= leaseAssembly(known)).bytes;
    buf.copy(bytes, at);
    this.#assembled += buf.length;
    return bytes.subarray(at, at + buf.length);
  }

  /** The body length if the handler declared it (Content-Length). */
  #knownLength(): number | undefined {
    const cl = this.inner.getHeader('content-length');
    if (cl === undefined) return undefined;
    const n = Number(cl);
    return Number.isInteger(n) && n >= 0 ? n : undefined;
  }

  /** Can encode change this response at all? Decides Vary as well as compression. */
  #eligible(): boolean {
    const res = this.inner;
    const status = res.statusCode;
    if (status === 304) return true; // RFC 9110 §15.4.5: a 304 carries the Vary the 200 would
    if (status < 200 || status === 204 || status === 206) return false;
    if (res.hasHeader('content-encoding') || res.hasHeader('content-range')) return false;
    if (hasToken(res.getHeader('cache-control'), 'no-transform')) return false;
    if (!res.hasHeader('content-type') && this.#bufferedLength > 0) {
      res.setHeader('content-type', sniffContentType(Buffer.concat(this.#buffered, Math.min(this.#bufferedLength, 512))));
    }
    return this.settings.match(status, (name) => res.getHeader(name));
  }

  /**
   * Chooses identity or compression, after the head callbacks had their say. The body length is
   * the declared one, if any; an unknown length is presumed long (a streamed response), and so is
   * an event stream's. With `send`, status and headers go out now.
   */
  #decide(send: boolean, eventStream: boolean): boolean {
    if (!this.#runHead()) return false;
    const known = eventStream ? undefined : this.#knownLength();
    const res = this.inner;
    const eligible = this.#eligible();
    this.#varyAndValidator(eligible);
    const compress =
      eligible && this.encoder !== undefined && res.statusCode !== 304 && (known === undefined || known >= this.settings.minimumLength);
    if (compress) {
      this.#setEncodedHeaders();
      this.#eventStream = this.#isEventStream();
      this.#startCompressor(known);
      this.#state = State.Compress;
    } else {
      this.#state = State.Identity;
      res.on('drain', () => this.#events.emit('drain'));
    }
    if (send) res.flush();
    const pending = this.#buffered;
    this.#buffered = [];
    this.#bufferedLength = 0;
    this.#assembly = undefined;
    for (const buf of pending) {
      if (this.#state === State.Compress) this.#compressor!.write(buf);
      else res.write(buf);
    }
    if (send && this.#state === State.Compress && pending.length > 0) this.#syncFlush();
    return true;
  }

  /** Vary on every response encode could have changed; a 304 for our encoded ETag gets that ETag back. */
  #varyAndValidator(eligible: boolean): void {
    const res = this.inner;
    if (eligible && !hasToken(res.getHeader('vary'), 'accept-encoding')) res.appendHeader('vary', 'Accept-Encoding');
    // RFC 9110 §15.4.5: a 304 carries the ETag the 200 would have. The client validated the
    // encoded representation, so that is the one it must see, or its cache cannot update the entry.
    if (res.statusCode === 304 && this.info.encodedValidator) this.#suffixEtag();
  }

  /** RFC 9110 §8.8.3.3: a strong validator names one representation, so the encoded one gets its own. */
  #suffixEtag(): void {
    const res = this.inner;
    const etag = res.getHeader('etag');
    if (typeof etag === 'string' && !etag.startsWith('W/') && etag.endsWith('"')) {
      res.setHeader('etag', `${etag.slice(0, -1)}-${this.encoder!.name}"`);
    }
  }

  #setEncodedHeaders(): void {
    const res = this.inner;
    res.setHeader('content-encoding', this.encoder!.name);
    res.removeHeader('content-length');
    res.removeHeader('accept-ranges');
    this.#suffixEtag();
  }

  /** The whole body is known at end(): decide, and compress it in one go when it pays. */
  #finishWhole(known: number | undefined, cb?: () => void): void {
    const res = this.inner;
    const eligible = this.#eligible();
    this.#varyAndValidator(eligible);
    const compress =
      eligible && this.encoder !== undefined && res.statusCode !== 304 && known !== undefined && known >= this.settings.minimumLength;
    // One chunk (a body given to end() whole) is used as it is: a copy would cost its size again.
    const chunks = this.#buffered;
    const length = this.#bufferedLength;
    // All of it copied into the assembly already (chunks written with a callback): no concatenation.
    const lease = this.#assembly !== undefined && this.#assembled === length && length > 0 ? this.#assembly : undefined;
    const body =
      length === 0 ? undefined : lease ? lease.bytes.subarray(0, length) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
    this.#buffered = [];
    this.#bufferedLength = 0;
    this.#assembly = undefined;
    if (!compress) {
      this.#state = State.Identity;
      // A lendable writer calls back once it is done with the bytes: the assembly is free then.
      res.end(
        body,
        lease && res.lendable
          ? () => {
              lease.release();
              cb?.();
            }
          : cb,
      );
      this.#resolveDone();
      return;
    }
    this.#setEncodedHeaders();
    this.#state = State.Compress;
    if (!body || this.req.method === 'HEAD') {
      lease?.release();
      res.end(cb);
      this.#resolveDone();
      return;
    }
    this.#compressWhole(body, lease, cb);
  }

  /** Compresses a whole body in one call (oneShotQueue bounds how many run at once) and ends with it. */
  #compressWhole(body: Buffer, lease: AssemblyLease | undefined, cb: (() => void) | undefined): void {
    const res = this.inner;
    const encoder = this.encoder!;
    // A client that left while the body waited for its turn is not compressed for.
    oneShotQueue
      .run(() => (res.destroyed ? Promise.resolve(body) : encoder.oneShot(body)))
      .then(
        (out) => {
          // The compressor consumed the body (or never took it): nothing reads the assembly now.
          lease?.release();
          if (res.destroyed || this.#state !== State.Compress) return this.#resolveDone();
          try {
            res.setHeader('content-length', out.length);
            res.end(out, cb);
          } catch (err) {
            return this.#fail(err);
          }
          this.#resolveDone();
        },
        (err: Error) => {
          res.destroy(err);
          this.#resolveDone();
        },
      );
  }

  #startCompressor(sizeHint: number | undefined): void {
    const res = this.inner;
    const c = (this.#compressor = this.encoder!.stream(sizeHint));
    c.on('data', (out: Buffer) => {
      // Backpressure from the client pauses the compressor; its input side then fills and
      // our write() returns false until 'drain'. The first write sends the head: a head
      // callback of the writer underneath that throws there must not escape this event.
      let ok: boolean;
      try {
        ok = res.write(out);
      } catch (err) {
        return this.#fail(err);
      }
      if (!ok) {
        c.pause();
        res.once('drain', () => c.resume());
      }
    });
    c.on('drain', () => {
      this.#needDrain = false;
      this.#events.emit('drain');
    });
    c.once('end', () => {
      try {
        if (!res.destroyed) res.end();
      } catch (err) {
        return this.#fail(err);
      }
      this.#resolveDone();
    });
    c.once('error', (err) => {
      res.destroy(err);
      this.#resolveDone();
    });
  }

  #syncFlush(): void {
    const c = this.#compressor!;
    this.encoder!.flush(c, () => {
      if (this.inner.destroyed) return;
      try {
        this.inner.flush();
      } catch (err) {
        this.#fail(err);
      }
    });
  }
}
