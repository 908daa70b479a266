// biome-ignore-all lint/suspicious/noExplicitAny: the bridged methods take whatever Node's own ServerResponse methods take, and pass it on untouched
import type { OutgoingHttpHeaders } from 'node:http';
import type { ResponseWriter } from '../types.js';

type Fn = (...args: any[]) => unknown;

/** The calls a Node-style app makes on its response that give back the Ferry writer's answer. */
export const PASSED = [
  'write',
  'getHeader',
  'getHeaders',
  'getHeaderNames',
  'hasHeader',
  'removeHeader',
  'flushHeaders',
  'flush',
  'listeners',
  'rawListeners',
  'listenerCount',
  'eventNames',
  'getMaxListeners',
] as const;

/** The calls that return the response itself (chainable in Node): the Node object, not the writer, is returned. */
export const CHAINED = [
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

/** Node's own 1xx calls, which Ferry's writer sends past every wrapper. */
const INFORMATIONAL: Record<string, (w: ResponseWriter, args: any[]) => unknown> = {
  writeContinue: (w) => w.writeInformational(100),
  writeProcessing: (w) => w.writeInformational(102),
  writeEarlyHints: (w, args) => {
    const [hints, cb] = args as [OutgoingHttpHeaders, (() => void) | undefined];
    w.writeInformational(103, hints);
    cb?.();
  },
};

/** What a bridged call does: the writer's method, or the one `target` had (while `direct` says so). */
function bridged(name: string, chained: boolean, before: (self: object) => Fn | undefined): Fn {
  const informational = INFORMATIONAL[name];
  return function (this: Bridged, ...args: any[]) {
    const b = this[kBridge];
    if (b === undefined || b.direct?.()) return before(this)?.apply(this, args);
    if (informational) return informational(b.w, args);
    const out = (b.w as unknown as Record<string, Fn>)[name]!(...args);
    return chained ? this : out;
  };
}

const NAMES: readonly [string, boolean][] = [
  ...PASSED.map((n) => [n, false] as [string, boolean]),
  ...CHAINED.map((n) => [n, true] as [string, boolean]),
  ...Object.keys(INFORMATIONAL).map((n) => [n, false] as [string, boolean]),
];

const kBridge = Symbol('ferry.bridge');
interface Bridged {
  [kBridge]?: { readonly w: ResponseWriter; readonly direct?: () => boolean };
}

/** For each prototype a response had, the one that bridges it: made once, shared by every response. */
const bridgingProtos = new WeakMap<object, object>();

function bridgingProtoOf(proto: object): object {
  let b = bridgingProtos.get(proto);
  if (b !== undefined) return b;
  b = Object.create(proto) as object;
  for (const [name, chained] of NAMES) {
    const fn = bridged(name, chained, () => (proto as Record<string, Fn>)[name]);
    Object.defineProperty(b, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
  bridgingProtos.set(proto, b);
  return b;
}

/**
 * Makes the Node response `res` (as another server made it, and an app handed it on) write
 * through the Ferry writer `w`: what the app calls on it from now on — `write`, `end`, `writeHead`,
 * headers, listeners — goes to `w`, so every wrapper of Ferry's chain (`encode`, `headers`,
 * `onHead` callbacks) applies and `'drain'` comes from whichever of them pushes back. Its fields
 * and the events Node emits on it stay Node's.
 *
 * By a prototype put under it (one per prototype, shared), not own properties, which would cost a
 * slow property store each. Methods earlier middleware put on it as own properties (`on-headers`,
 * `compression`) are bridged in place. While `direct()` says so (Ferry's writer calling into it),
 * a call goes to the method it had before, as does Node's implicit `writeHead` then.
 *
 * An app that replaces the prototype again (an Express sub-app mounted below) leaves the bridge:
 * mount Ferry's middleware inside that sub-app.
 */
export function bridgeInto(res: object, w: ResponseWriter, direct: () => boolean): void {
  const target = res as Bridged & Record<string, unknown>;
  target[kBridge] = { w, direct };
  for (const [name, chained] of NAMES) {
    const own = Object.hasOwn(target, name) ? (target[name] as Fn) : undefined;
    if (own !== undefined) target[name] = bridged(name, chained, () => own);
  }
  Object.setPrototypeOf(res, bridgingProtoOf(Object.getPrototypeOf(res) as object));
}
