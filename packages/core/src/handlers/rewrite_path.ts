import { decodePath } from '../target.js';

/**
 * The path side of the `rewrite` handler: cleaning, escape-aware prefix and suffix stripping, and
 * making whatever a rewrite produced a target that every later reader — the path matchers, which
 * decode and clean it (match/path.ts), and an upstream's URL parser — reads the same way.
 *
 * Paths here are escaped (`rawPath` form: `/a%2Fb`), as Caddy's modifiers work on `EscapedPath()`.
 */

/**
 * Caddy's `CleanPath`: dot segments resolved and, with `mergeSlashes`, repeated slashes collapsed;
 * without it, the empty segments between repeated slashes are kept (a `..` after `//` removes
 * one). A trailing slash is kept. Only for a path that starts with `/`.
 */
export function cleanRewritePath(p: string, mergeSlashes: boolean): string {
  if (p.charCodeAt(0) !== 47 || p === '/' || (!p.includes('/.') && (!mergeSlashes || !p.includes('//')))) return p;
  const trailing = p.length > 1 && p.endsWith('/');
  const segs = p.split('/');
  const body = segs.slice(1, trailing ? -1 : undefined);
  const out: string[] = [];
  for (const seg of body) {
    if (seg === '.' || (seg === '' && mergeSlashes)) continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const joined = `/${out.join('/')}`;
  return trailing && joined !== '/' ? `${joined}/` : joined;
}

/** The value of two hex digits at `s[i]`, `s[i+1]`, or -1. */
function hexByte(s: string, i: number): number {
  const pair = s.slice(i, i + 2);
  return /^[0-9a-fA-F]{2}$/.test(pair) ? Number.parseInt(pair, 16) : -1;
}

function sameChar(a: number, b: number): boolean {
  if (a === b) return true;
  // Case-insensitive for ASCII letters, as the path matcher is.
  const lower = a | 0x20;
  return lower === (b | 0x20) && lower >= 97 && lower <= 122;
}

/** The pattern (prefix or suffix) as bytes, one latin1 character each, to compare with escaped path bytes. */
export function patternBytes(pattern: string): string {
  return Buffer.from(pattern, 'utf8').toString('latin1');
}

/**
 * Caddy's escape-aware prefix trim: the path's `%XX` escapes compare as the byte they stand for,
 * unless the prefix writes an escape at that place — then the path must have the same escape.
 * Letters compare case-insensitively. Returns the path without the prefix, or as it was.
 */
export function trimPathPrefix(escaped: string, prefix: string): string {
  let i = 0;
  let j = 0;
  while (i < escaped.length && j < prefix.length) {
    let ch = escaped.charCodeAt(i);
    const want = prefix.charCodeAt(j);
    if (ch === 37 /* % */ && want !== 37 && i + 2 < escaped.length && hexByte(escaped, i + 1) >= 0) {
      ch = hexByte(escaped, i + 1);
      i += 2;
    }
    if (!sameChar(ch, want)) return escaped;
    i++;
    j++;
  }
  return j >= prefix.length ? escaped.slice(i) : escaped;
}

/** The suffix counterpart of {@link trimPathPrefix}, walking both from their ends. */
export function trimPathSuffix(escaped: string, suffix: string): string {
  let i = escaped.length;
  let j = suffix.length;
  while (i > 0 && j > 0) {
    let ch = escaped.charCodeAt(i - 1);
    const want = suffix.charCodeAt(j - 1);
    let step = 1;
    const pathEscape = i >= 3 && escaped.charCodeAt(i - 3) === 37 && hexByte(escaped, i - 2) >= 0;
    const suffixEscape = j >= 3 && suffix.charCodeAt(j - 3) === 37;
    if (pathEscape && !suffixEscape) {
      ch = hexByte(escaped, i - 2);
      step = 3;
    }
    if (!sameChar(ch, want)) return escaped;
    i -= step;
    j--;
  }
  return j <= 0 ? escaped.slice(0, i) : escaped;
}

/** Characters a path may hold unescaped (RFC 3986 pchar, `/`, and `%` of an escape; `[` `]` as Go allows). */
const PATH_OK = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%[\]]*$/;
const PATH_ESCAPE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%[\]]/gu;
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;

function escapeUtf8(c: string): string {
  let out = '';
  for (const b of Buffer.from(c, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  return out;
}

/**
 * What a rewrite produced, as a path that means one thing to every reader: `?`, `#`, `\`, spaces,
 * controls, non-ASCII (as UTF-8) and the other characters a path may not hold are escaped — so a
 * placeholder value can neither start a query or fragment nor smuggle a `\` that a WHATWG parser
 * reads as `/` past the path matchers (issue 13) — and a path with an invalid escape has every `%`
 * escaped, as Go does. A path that does not start with `/` gets one (Caddy forwards it as is).
 */
export function toRawPath(p: string): string {
  let out = p;
  if (!PATH_OK.test(out)) out = out.replace(PATH_ESCAPE, escapeUtf8);
  if (BAD_ESCAPE.test(out)) out = out.replace(/%/g, '%25');
  return out.charCodeAt(0) === 47 ? out : `/${out}`;
}

/** Go's `url.PathEscape` of a decoded path, keeping `/`: the canonical escaping of a path. */
export function escapePath(decoded: string): string {
  return decoded.replace(/[^A-Za-z0-9\-._~$&+,;=:@/]/gu, escapeUtf8);
}

/**
 * After a strip (Caddy's canonicalizePath): the path anchored at `/`, and if its decoded form has
 * dot segments to resolve — a strip can expose them, `/api%2F..%2Fadmin` less `/api` decodes to
 * `/../admin` — the canonical escaping of the cleaned decoded path; otherwise the escaped form kept.
 */
export function canonicalAfterStrip(escaped: string): string {
  const raw = toRawPath(escaped);
  if (!raw.includes('%') && !raw.includes('/.')) return raw;
  const decoded = decodePath(raw);
  const cleaned = cleanRewritePath(decoded, false);
  return cleaned === decoded ? raw : escapePath(cleaned);
}

/** Go's `strings.Replace(s, find, replace, n)`: at most `n` replacements, all when `n` < 0. `find` is not empty. */
export function replaceN(s: string, find: string, replace: string, n: number): string {
  if (n === 0) return s;
  let out = '';
  let from = 0;
  let count = 0;
  for (let at = s.indexOf(find); at !== -1 && (n < 0 || count < n); at = s.indexOf(find, from)) {
    out += s.slice(from, at) + replace;
    from = at + find.length;
    count++;
  }
  return count === 0 ? s : out + s.slice(from);
}
