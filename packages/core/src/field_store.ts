import { ServerResponse } from 'node:http';

/**
 * Where Node keeps an HTTP/1.1 response's header fields: `OutgoingMessage[kOutHeaders]`, made by
 * the first setHeader/appendHeader as `{ __proto__: null }`. V8 keeps a null-prototype object
 * literal in dictionary mode, so every head Node builds (`_storeHeader`'s `for…in`) enumerates and
 * sorts a dictionary, and every field stored is a dictionary insert. Found once by the symbol's
 * name (the same on Node 20 to 26); undefined if a Node names it otherwise, and then Node's own
 * store is used.
 */
const kOutHeaders: symbol | undefined = (() => {
  const probe = new ServerResponse({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as never);
  return Object.getOwnPropertySymbols(probe).find((s) => s.description === 'kOutHeaders');
})();

/**
 * A field store in fast mode with nothing above it that a field name could reach: its prototype is
 * an empty, frozen object without a prototype, so `__proto__` or `constructor` are fields like any
 * other (what Node's null-prototype literal guards against), and `for…in` sees only the fields.
 */
const FieldStore = function FieldStore() {} as unknown as new () => Record<string, [string, unknown]>;
FieldStore.prototype = Object.freeze(Object.create(null));

type WithStore = Record<symbol, Record<string, [string, unknown]> | null>;

/** Gives `res` a fast field store before Node would make its own (call before setHeader/appendHeader). */
export function useFastFieldStore(res: ServerResponse): void {
  if (kOutHeaders !== undefined && (res as unknown as WithStore)[kOutHeaders] === null) {
    (res as unknown as WithStore)[kOutHeaders] = new FieldStore();
  }
}
