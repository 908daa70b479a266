import { ServerResponse, validateHeaderName, validateHeaderValue } from 'node:http';

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

/** A field a config gave, checked once when provisioned: Node accepts its name and its one value. */
export interface CheckedField {
  readonly name: string;
  /** The name in lower case: the store's key. */
  readonly key: string;
  readonly value: string;
}

/**
 * The field, checked as setHeader would check it; undefined when Node refuses it — it is then set
 * through setHeader on each response, which reports it there, as before.
 */
export function checkedField(name: string, value: string): CheckedField | undefined {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
  } catch {
    return undefined;
  }
  return { name, key: name.toLowerCase(), value };
}

/** The method of a writer that takes a checked field without checking it again (Http1Writer's). */
export const setChecked = Symbol('ferry.setCheckedField');

interface FieldWriter {
  setHeader(name: string, value: string): unknown;
  [setChecked]?: (f: CheckedField) => void;
}

/** The method of a writer that reads a field from its own store (Http1Writer's). */
export const readStored = Symbol('ferry.readStoredField');

interface FieldReader {
  getHeader(name: string): unknown;
  [readStored]?: (key: string) => unknown;
}

/**
 * The value of the field named `key` (lower case), undefined when there is none: read from an
 * HTTP/1.1 writer's store without getHeader's check and lower-casing (a hello response made three
 * such calls); through getHeader on any other writer, whose getHeader may be its own (a
 * wrapper's, interop's).
 */
export function responseField(res: FieldReader, key: string): unknown {
  const own = res[readStored];
  return own !== undefined ? own.call(res, key) : res.getHeader(key);
}

/** What Node's getHeader answers for a lower-case name, read from the store directly. */
export function storedValue(res: ServerResponse, key: string): unknown {
  if (kOutHeaders === undefined) return res.getHeader(key);
  return (res as unknown as WithStore)[kOutHeaders]?.[key]?.[1];
}

/**
 * Sets a checked field: into an HTTP/1.1 writer's store without Node's checks and lower-casing
 * again (a regexp each for name and value, a third of what a fixed field cost); through setHeader
 * on any other writer.
 */
export function setCheckedField(res: FieldWriter, f: CheckedField): void {
  const fast = res[setChecked];
  if (fast !== undefined) fast.call(res, f);
  else res.setHeader(f.name, f.value);
}

/**
 * What Node's setHeader does once its checks passed: the field stored under its lower-case name,
 * with a new entry (Node's appendHeader changes an entry in place). False when the head is built
 * already (or the store is Node's own): the caller then goes through setHeader, which throws
 * ERR_HTTP_HEADERS_SENT as it always did.
 */
export function storeChecked(res: ServerResponse, f: CheckedField): boolean {
  return storeField(res, f.key, f.name, f.value);
}

function storeField(res: ServerResponse, key: string, name: string, value: string | readonly string[]): boolean {
  if (kOutHeaders === undefined || (res as unknown as { _header: string | null })._header) return false;
  const own = res as unknown as WithStore;
  const store = own[kOutHeaders] ?? (own[kOutHeaders] = new FieldStore());
  store[key] = [name, value];
  return true;
}

/** The method of a writer that takes a field a parser checked without checking it again (Http1Writer's). */
export const setParsed = Symbol('ferry.setParsedField');

interface ParsedFieldWriter {
  setHeader(name: string, value: string | readonly string[]): unknown;
  [setParsed]?: (key: string, value: string | readonly string[]) => void;
}

/**
 * Sets a field a parser has checked as Node would (the proxy's HTTP/1.1 response parser: a
 * lower-case token for its name, no control character but HTAB in its values, nothing past
 * U+00FF): into an HTTP/1.1 writer's store without Node's two regexps and lower-casing again (on
 * a proxied 64 KiB answer, ~5,000 of ~121,000 instructions a request, callgrind); through
 * setHeader on any other writer.
 */
export function setParsedField(res: ParsedFieldWriter, key: string, value: string | readonly string[]): void {
  const fast = res[setParsed];
  if (fast !== undefined) fast.call(res, key, value);
  else res.setHeader(key, value);
}

/** Http1Writer's `[setParsed]`: stored as it is, or through setHeader once the head is built (which throws as it always did). */
export function storeParsed(res: ServerResponse, key: string, value: string | readonly string[]): void {
  if (!storeField(res, key, key, value)) res.setHeader(key, value);
}
