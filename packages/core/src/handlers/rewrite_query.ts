import type { PlaceholderEdit, Template } from '../placeholders.js';
import type { FerryRequest } from '../request.js';

/**
 * The query side of the `rewrite` handler, in Go's terms because Caddy's behaviour is Go's:
 * `url.QueryEscape`, `url.ParseQuery` and `url.Values.Encode` (keys sorted), and Caddy's way of
 * building a query from a `uri` template (`buildQueryString`).
 */

/** Go's `url.QueryEscape`: all but `A-Z a-z 0-9 - _ . ~` escaped (as UTF-8), space as `+`. */
export function queryEscape(s: string): string {
  return encodeURIComponent(wellFormed(s))
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** `s` with any lone surrogate as U+FFFD, as its UTF-8 bytes carry it. */
function wellFormed(s: string): string {
  return /[\uD800-\uDFFF]/.test(s) ? Buffer.from(s, 'utf8').toString('utf8') : s;
}

/** Go's `url.QueryUnescape`: `+` is a space; undefined for an invalid `%` escape. Invalid UTF-8 becomes U+FFFD. */
export function queryUnescape(s: string): string | undefined {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  if (/%(?![0-9a-fA-F]{2})/.test(plus)) return undefined;
  try {
    return decodeURIComponent(plus);
  } catch {
    return Buffer.from(
      plus.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  }
}

/** A query as Go's `url.Values`: a key's values in order. A Map, so `__proto__` is a key like any other. */
export type QueryValues = Map<string, string[]>;

/** Go's `url.ParseQuery`, lenient as `URL.Query()`: a pair with `;` or an invalid escape is dropped. */
export function parseQuery(raw: string): QueryValues {
  const values: QueryValues = new Map();
  if (raw === '') return values;
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const key = queryUnescape(eq === -1 ? pair : pair.slice(0, eq));
    const value = queryUnescape(eq === -1 ? '' : pair.slice(eq + 1));
    if (key === undefined || value === undefined) continue;
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return values;
}

/** Go's `url.Values.Encode`: keys sorted, each value `key=value`, escaped by {@link queryEscape}. */
export function encodeQuery(values: QueryValues): string {
  const keys = [...values.keys()].sort();
  let out = '';
  for (const key of keys) {
    const k = queryEscape(key);
    for (const v of values.get(key)!) out += `${out ? '&' : ''}${k}=${queryEscape(v)}`;
  }
  return out;
}

/** One piece of a `uri` template's query, between `=` and `&` delimiters: a key or a value. */
export interface QueryComponent {
  readonly template: Template;
  /** Whether it stands where a key does (at the start, or after `&`). */
  readonly isKey: boolean;
  /** Whether an `&` ends it (so a key comes next). */
  readonly ampAfter: boolean;
}

/**
 * Splits a query template at its `&` and `=` delimiters, as Caddy's `buildQueryString` does
 * before it expands placeholders: an `=` delimits a key from its value, and inside a value only
 * `&` ends it (base64 padding stays). Delimiters inside placeholder values are data.
 */
export function splitQuery(qs: string, compile: (text: string) => Template): QueryComponent[] {
  const parts: QueryComponent[] = [];
  let isKey = true;
  let rest = qs;
  while (rest.length > 0) {
    const amp: number = rest.indexOf('&');
    const eq: number = isKey ? rest.indexOf('=') : -1;
    const ampFirst: boolean = amp >= 0 && (eq < 0 || amp < eq);
    const end = ampFirst ? amp : eq >= 0 ? eq : rest.length;
    parts.push({ template: compile(rest.slice(0, end)), isKey, ampAfter: ampFirst });
    rest = rest.slice(end < rest.length ? end + 1 : end);
    isKey = ampFirst;
  }
  return parts;
}

/** Placeholder values in a query are escaped; `{http.request.uri.query}` where a key goes is the query itself, escaped already. */
const inKey: PlaceholderEdit = (value, key) => (key === 'http.request.uri.query' ? value : queryEscape(value));
const inValue: PlaceholderEdit = (value) => queryEscape(value);

/** Caddy's `buildQueryString`: the components rendered and joined; an empty key adds no `&`. */
export function buildQuery(parts: readonly QueryComponent[], req: FerryRequest): string {
  let out = '';
  for (const p of parts) {
    const text = p.template.renderAll(req, p.isKey ? inKey : inValue);
    if (!p.isKey) out += '=';
    else if (out.length > 0 && text.length > 0) out += '&';
    out += text;
  }
  return out;
}

const QUERY_ESCAPE = /[^\x21-\x7e]|[\\#]/gu;

/**
 * A query a rewrite produced, with what a request target may not hold escaped (as target.ts does
 * for the target the client sent): controls, spaces, non-ASCII (as UTF-8), `\` and `#`.
 */
export function toRawQuery(q: string): string {
  QUERY_ESCAPE.lastIndex = 0;
  if (!QUERY_ESCAPE.test(q)) return q;
  return q.replace(QUERY_ESCAPE, (c) => {
    let out = '';
    for (const b of Buffer.from(c, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
    return out;
  });
}
