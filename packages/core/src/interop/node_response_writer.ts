// biome-ignore-all lint/suspicious/noExplicitAny: the overrides of write/end/writeHead repeat @types/node's own `any` parameters
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { ClearCookieOptions, CookieOptions } from '../cookies.js';
import { appendClearCookie, appendSetCookie } from '../cookies.js';
import { foldHead, HeadCallbacks, type HeadCallback } from '../head.js';
import { keepHeadBytes } from '../latin1_head.js';
import { CHAINED, PASSED } from './bridge_response.js';
import type { ResponseWriter } from '../types.js';
import {
  checkInformational,
  checkOnHead,
  Http1Writer,
  overTls,
  ResponseWriterWrapper,
  sendH2Informational,
  sniffFirstChunk,
} from '../writer.js';

type Fn = (...args: any[]) => unknown;

/**
 * The methods of a Node response the writer calls: the ones a bridge may put in front of (but
 * `flush`, which Node's responses do not have and this writer does itself), and `emit`.
 */
const METHODS = [...PASSED.filter((name) => name !== 'flush'), ...CHAINED, 'emit'];

/** The state read off a Node response; a bridge leaves it alone, so it is read from the response itself. */
const STATE = [
  'statusCode',
  'statusMessage',
  'headersSent',
  'writableEnded',
  'writableFinished',
  'writableNeedDrain',
  'destroyed',
  'writable',
  'closed',
];

/**
 * A Node response as its methods were when it was made: calls go to those, whatever a bridge puts
 * in front of them later. The methods live on this class's prototype (made once, below); an
 * instance holds only the response and the functions it had.
 */
class Detached {
  constructor(
    readonly res: Record<string, unknown>,
    readonly fns: Fn[],
  ) {}
}
METHODS.forEach((name, i) => {
  Object.defineProperty(Detached.prototype, name, {
    value(this: Detached, ...args: any[]) {
      return this.fns[i]!.apply(this.res, args);
    },
  });
});
for (const name of STATE) {
  Object.defineProperty(Detached.prototype, name, {
    get(this: Detached) {
      return this.res[name];
    },
    set(this: Detached, v: unknown) {
      this.res[name] = v;
    },
  });
}

/** `res` detached from what is put in front of its methods from now on. */
function detached(res: ServerResponse | Http2ServerResponse): ResponseWriter {
  const r = res as unknown as Record<string, Fn>;
  const fns = METHODS.map((name) => r[name]!);
  return new Detached(res as unknown as Record<string, unknown>, fns) as unknown as ResponseWriter;
}

/**
 * Ferry's `ResponseWriter` over a response another server made: node:http's `ServerResponse` (as
 * Express or Connect hand it on, prototype replaced and all) or node:http2's compatibility
 * response. What Ferry's own writers add is done here — `onHead`, 1xx, `flush`, cookies, the
 * sniffed Content-Type — and everything else goes to the response as it is.
 */
export class NodeResponseWriter extends ResponseWriterWrapper {
  readonly #res: ServerResponse | Http2ServerResponse;
  readonly #h2: boolean;
  #head: HeadCallbacks | undefined;
  #duplex = false;
  /** Calls into the response under way: what Node calls back on it then (its implicit writeHead) is Node's own. */
  #inside = 0;

  constructor(res: ServerResponse | Http2ServerResponse) {
    super(res as unknown as ResponseWriter);
    this.#res = res;
    this.#h2 = res instanceof Http2ServerResponse;
    // A head field past ASCII leaves as its bytes, as from Ferry's own writer (latin1_head.ts).
    if (!this.#h2) keepHeadBytes(res as ServerResponse);
  }

  /** True while this writer is calling into the response: a bridge on it then lets Node's own calls through. */
  get inside(): boolean {
    return this.#inside > 0;
  }

  /**
   * Reads the response through a snapshot of its methods from now on, so a bridge may put own
   * properties on it (toNodeHandler's fall-through to Connect's `next`) without this writer
   * calling back into the bridge.
   */
  detach(): void {
    (this as unknown as { inner: ResponseWriter }).inner = detached(this.#res);
  }

  #call<T>(fn: () => T): T {
    this.#inside++;
    try {
      return fn();
    } finally {
      this.#inside--;
    }
  }

  /** Runs the head callbacks once, just before the head goes out. */
  #runHead(): void {
    const head = this.#head;
    if (head === undefined || this.inner.headersSent) return;
    this.#head = undefined;
    head.run();
  }

  override get fullDuplex(): boolean {
    return this.#h2 || this.#duplex;
  }
  override enableFullDuplex(): void {
    this.#duplex = true;
  }
  override get hijack(): undefined {
    return undefined;
  }
  override get hijacked(): boolean {
    return false;
  }
  override onHijack(): void {
    // A response handed over by another server has no connection to take over (attachUpgrades does).
  }
  override onHead(fn: HeadCallback): void {
    checkOnHead(this.inner.headersSent, false);
    (this.#head ??= new HeadCallbacks()).add(fn);
  }
  override closeAfterResponse(): void {
    if (!this.#h2) (this.#res as ServerResponse).shouldKeepAlive = false;
  }
  override setCookie(name: string, value: string, options?: CookieOptions): this {
    appendSetCookie(this, overTls(this.#res.socket), name, value, options);
    return this;
  }
  override clearCookie(name: string, options?: ClearCookieOptions): this {
    appendClearCookie(this, overTls(this.#res.socket), name, options);
    return this;
  }

  override writeHead(statusCode: number, a?: any, b?: any): this {
    if (this.#head !== undefined && !this.inner.headersSent) {
      a = foldHead(this.inner, statusCode, a, b);
      b = undefined;
      this.#runHead();
      statusCode = this.inner.statusCode;
    }
    this.#call(() => this.inner.writeHead(statusCode, a, b));
    return this;
  }
  override write(chunk: unknown, encoding?: any, cb?: any): boolean {
    if (!this.inner.headersSent) {
      sniffFirstChunk(this.inner, chunk);
      this.#runHead();
    }
    return this.#call(() => this.inner.write(chunk, encoding, cb));
  }
  override end(chunk?: unknown, encoding?: any, cb?: any): this {
    if (!this.inner.headersSent) {
      if (chunk !== undefined && typeof chunk !== 'function') sniffFirstChunk(this.inner, chunk);
      this.#runHead();
    }
    this.#call(() => this.inner.end(chunk, encoding, cb));
    return this;
  }
  override flushHeaders(): void {
    this.#runHead();
    this.#call(() => this.inner.flushHeaders());
  }
  override flush(): void {
    // On HTTP/1.1 `headersSent` turns true once writeHead built the head; `_headerSent` once it is on the wire.
    const sent = this.#h2 ? this.inner.headersSent : (this.#res as unknown as { _headerSent: boolean })._headerSent;
    if (!sent) this.flushHeaders();
  }
  override writeInformational(status: number, headers?: OutgoingHttpHeaders): void {
    if (!this.#h2) {
      Http1Writer.prototype.writeInformational.call(this.#res as Http1Writer, status, headers);
      return;
    }
    checkInformational(status);
    if (this.inner.headersSent) throw new Error('writeInformational after the final response headers were sent');
    sendH2Informational((this.#res as Http2ServerResponse).stream, status, headers);
  }
  override destroy(error?: Error): this {
    // As Http2Writer: an abort without an error would reset the stream with NO_ERROR, a clean end to h2 clients.
    this.inner.destroy(this.#h2 ? (error ?? new Error('response aborted')) : error);
    return this;
  }
}
