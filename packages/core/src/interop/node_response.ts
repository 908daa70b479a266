// biome-ignore-all lint/suspicious/noExplicitAny: the bridged methods take whatever Node's own ServerResponse methods take, and pass it on untouched
import { type IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ResponseWriter } from '../types.js';

const kWriter = Symbol('ferry.writer');

/** The state an app (or `on-finished`, `send`, `pipe`) reads off its response: the writer's. Assignments Node would make are ignored. */
const STATE: PropertyDescriptorMap = {};
for (const [name, read] of Object.entries({
  headersSent: (w: ResponseWriter) => w.headersSent,
  writableEnded: (w: ResponseWriter) => w.writableEnded,
  writableFinished: (w: ResponseWriter) => w.writableFinished,
  writableNeedDrain: (w: ResponseWriter) => w.writableNeedDrain,
  destroyed: (w: ResponseWriter) => w.destroyed,
  writable: (w: ResponseWriter) => w.writable,
  closed: (w: ResponseWriter) => w.closed,
  // Node's deprecated alias of writableEnded, still what `on-finished` (Express, send) reads first.
  finished: (w: ResponseWriter) => w.writableEnded,
})) {
  STATE[name] = {
    configurable: true,
    get(this: NodeResponse) {
      return read(this[kWriter]);
    },
    set() {},
  };
}
for (const name of ['statusCode', 'statusMessage'] as const) {
  STATE[name] = {
    configurable: true,
    enumerable: true,
    get(this: NodeResponse) {
      return this[kWriter][name];
    },
    set(this: NodeResponse, v: never) {
      this[kWriter][name] = v;
    },
  };
}

/**
 * A node:http `ServerResponse` of its own for an app mounted in Ferry (fromNodeHandler), writing
 * through Ferry's writer `w`: what the app calls and reads on it goes to `w`, so every wrapper in
 * front (`encode`, `headers`, `onHead` callbacks) applies, and 'drain' comes from whichever of
 * them pushes back.
 *
 * Its methods are own properties (class fields: one shape for every instance, cheap to make),
 * because apps replace their response's prototype — Express sets it to `app.response` — and own
 * properties survive that.
 */
export class NodeResponse extends ServerResponse {
  declare [kWriter]: ResponseWriter;

  constructor(req: IncomingMessage, w: ResponseWriter) {
    super(req);
    Object.defineProperties(this, STATE);
    Object.defineProperty(this, kWriter, { value: w });
    Object.defineProperty(this, 'socket', { configurable: true, writable: true, value: req.socket });
  }

  override write = (...a: any[]): any => (this[kWriter].write as any)(...a);
  override end = (...a: any[]): any => {
    (this[kWriter].end as any)(...a);
    return this;
  };
  override writeHead = (...a: any[]): any => {
    (this[kWriter].writeHead as any)(...a);
    return this;
  };
  override flushHeaders = (): void => this[kWriter].flushHeaders();
  flush = (): void => this[kWriter].flush();
  override destroy = (err?: Error): this => {
    this[kWriter].destroy(err);
    return this;
  };
  override setHeader = (n: string, v: any): this => {
    this[kWriter].setHeader(n, v);
    return this;
  };
  override appendHeader = (n: string, v: any): this => {
    this[kWriter].appendHeader(n, v);
    return this;
  };
  override getHeader = (n: string): any => this[kWriter].getHeader(n);
  override getHeaders = (): OutgoingHttpHeaders => this[kWriter].getHeaders();
  override getHeaderNames = (): string[] => this[kWriter].getHeaderNames();
  override hasHeader = (n: string): boolean => this[kWriter].hasHeader(n);
  override removeHeader = (n: string): void => this[kWriter].removeHeader(n);
  override writeContinue = (): void => this[kWriter].writeInformational(100);
  override writeProcessing = (): void => this[kWriter].writeInformational(102);
  override writeEarlyHints = (hints: Record<string, string | string[]>, cb?: () => void): void => {
    this[kWriter].writeInformational(103, hints);
    cb?.();
  };
  override on = (e: string | symbol, l: any): this => {
    this[kWriter].on(e, l);
    return this;
  };
  override once = (e: string | symbol, l: any): this => {
    this[kWriter].once(e, l);
    return this;
  };
  override addListener = (e: string | symbol, l: any): this => {
    this[kWriter].addListener(e, l);
    return this;
  };
  override prependListener = (e: string | symbol, l: any): this => {
    this[kWriter].prependListener(e, l);
    return this;
  };
  override prependOnceListener = (e: string | symbol, l: any): this => {
    this[kWriter].prependOnceListener(e, l);
    return this;
  };
  override off = (e: string | symbol, l: any): this => {
    this[kWriter].off(e, l);
    return this;
  };
  override removeListener = (e: string | symbol, l: any): this => {
    this[kWriter].removeListener(e, l);
    return this;
  };
  override removeAllListeners = (e?: string | symbol): this => {
    this[kWriter].removeAllListeners(e);
    return this;
  };
  override emit = (e: string | symbol, ...a: any[]): boolean => this[kWriter].emit(e, ...a);
  override listeners = (e: string | symbol): any[] => this[kWriter].listeners(e);
  override rawListeners = (e: string | symbol): any[] => this[kWriter].rawListeners(e);
  override listenerCount = (e: string | symbol): number => this[kWriter].listenerCount(e);
  override eventNames = (): (string | symbol)[] => this[kWriter].eventNames();
  override setMaxListeners = (n: number): this => {
    this[kWriter].setMaxListeners(n);
    return this;
  };
  override getMaxListeners = (): number => this[kWriter].getMaxListeners();
}
