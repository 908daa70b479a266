// biome-ignore-all lint/suspicious/noExplicitAny: the bridged methods take whatever Node's own ServerResponse methods take, and pass it on untouched
import type { OutgoingHttpHeaders } from 'node:http';
import type { ResponseWriter } from '../types.js';

/** What a Node response object is to the bridge: any object, its methods replaced by own properties. */
type Target = Record<string | symbol, unknown>;

/** The calls a Node-style app makes on its response that go to the Ferry writer and give back the writer's answer. */
const PASSED = [
  'write',
  'getHeader',
  'getHeaders',
  'getHeaderNames',
  'hasHeader',
  'removeHeader',
  'flushHeaders',
  'flush',
  'emit',
  'listeners',
  'rawListeners',
  'listenerCount',
  'eventNames',
  'getMaxListeners',
] as const;

/** The calls that return the response itself (chainable in Node): the Node object, not the writer, is returned. */
const CHAINED = [
  'writeHead',
  'end',
  'setHeader',
  'appendHeader',
  'destroy',
  'on',
  'once',
  'addListener',
  'prependListener',
  'prependOnceListener',
  'off',
  'removeListener',
  'removeAllListeners',
  'setMaxListeners',
] as const;

/** Read-only state a Node-style app (or `on-finished`, `send`, `pipe`) reads off its response. */
const STATE: Record<string, (w: ResponseWriter) => unknown> = {
  headersSent: (w) => w.headersSent,
  writableEnded: (w) => w.writableEnded,
  writableFinished: (w) => w.writableFinished,
  writableNeedDrain: (w) => w.writableNeedDrain,
  destroyed: (w) => w.destroyed,
  writable: (w) => w.writable,
  closed: (w) => w.closed,
  // Node's deprecated alias of writableEnded, still what `on-finished` (Express, send) reads first.
  finished: (w) => w.writableEnded,
};

export interface BridgeOptions {
  /**
   * `target` is a response object of its own, made for the app (fromNodeHandler): its state
   * (`headersSent`, `finished`, `statusCode`, …) and `emit` become the writer's too. Otherwise
   * (toNodeHandler) Node itself drives it over its socket: its fields stay Node's, and so do the
   * events it emits ('drain' from its socket is for the writers listening on it, not for the
   * wrapper in front that owns 'drain') — only the calls an app makes are bridged.
   */
  readonly own: boolean;
  /**
   * While this says so, a call goes to the method `target` had before: Node calling back into its
   * own response (its implicit `writeHead` inside `write`) while Ferry's writer underneath calls it.
   */
  readonly direct?: () => boolean;
}

/**
 * Makes the Node-style response object `target` write through the Ferry writer `w`: every method a
 * Node app calls (and, on an object of its own, the state it reads) become own properties of
 * `target` that go to `w`.
 *
 * Own properties, because the apps people mount replace their response's prototype (Express sets
 * it to `app.response`): own properties survive that, so the bytes of `res.send`, `res.sendFile`,
 * `stream.pipe(res)` reach every wrapper in front (`encode`, `headers`, `onHead` callbacks), and
 * `'drain'` comes from whichever of them pushes back.
 */
export function bridgeResponse(target: object, w: ResponseWriter, options: BridgeOptions): void {
  const t = target as Target;
  const writer = w as unknown as Record<string, (...args: any[]) => unknown>;
  const { direct, own } = options;
  const install = (name: string, call: (...args: any[]) => unknown) => {
    const before = t[name] as ((...args: any[]) => unknown) | undefined;
    t[name] = direct && before ? (...args: any[]) => (direct() ? before.apply(target, args) : call(...args)) : call;
  };
  for (const name of PASSED) if (name !== 'emit' || own) install(name, (...args) => writer[name]!(...args));
  for (const name of CHAINED) {
    install(name, (...args) => {
      writer[name]!(...args);
      return target;
    });
  }
  // Node's own 1xx calls: Ferry's writer sends them past every wrapper.
  install('writeContinue', () => w.writeInformational(100));
  install('writeProcessing', () => w.writeInformational(102));
  install('writeEarlyHints', (hints: OutgoingHttpHeaders, cb?: () => void) => {
    w.writeInformational(103, hints);
    cb?.();
  });
  if (own) bridgeState(target, w);
}

/** The state of an own response object, read from the writer; what Node would assign to it is ignored. */
function bridgeState(target: object, w: ResponseWriter): void {
  const ignore = () => {};
  for (const [name, read] of Object.entries(STATE)) {
    Object.defineProperty(target, name, { configurable: true, enumerable: false, get: () => read(w), set: ignore });
  }
  for (const name of ['statusCode', 'statusMessage'] as const) {
    Object.defineProperty(target, name, {
      configurable: true,
      enumerable: true,
      get: () => w[name],
      set: (v: never) => {
        w[name] = v;
      },
    });
  }
}
