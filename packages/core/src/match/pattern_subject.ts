import { decodePath } from '../target.js';
import { cleanPath } from './path.js';

/**
 * What the `pattern` matcher matches against: the request path read as WHATWG URL parsers,
 * Express and Go's ServeMux read it, one segment at a time. The path is split on its literal
 * `/`; each segment is percent-decoded (byte-wise, as `decodePath`), so `%61dmin` is `admin`
 * and `%2e%2e` is a `..` segment; dot segments and repeated slashes are then resolved as the
 * `path` matcher resolves them (`/x/../admin`, `//admin`, `/./admin` are `/admin`). An encoded
 * `/` (`%2F`) stays inside its segment: `/users/a%2Fb` is one segment, `a/b`.
 *
 * Each segment is then written in one canonical percent-encoding (every character but
 * `A-Za-z0-9-._~!$&'()*+,;=:@|[]` as its UTF-8 escapes, upper-case), the same one the
 * pattern's literal text is written in (literalText), so that `é`, `%C3%A9` and `%c3%a9` meet.
 */

/** Characters a segment keeps as they are; every other one is percent-encoded. */
const ENCODE = /[^A-Za-z0-9\-._~!$&'()*+,;=:@|[\]]/gu;

/** Anything that sends a path through decoding and encoding rather than cleanPath alone. */
const NEEDS_WORK = /[^\x21-\x7e]|[%"<>^`{}\\#?]/;

function escapeChar(c: string): string {
  let out = '';
  // A lone surrogate (only from a rewritten url) becomes U+FFFD's bytes, as Buffer writes it.
  for (const b of Buffer.from(c, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  return out;
}

/** One decoded segment in the canonical encoding: a `/` in it becomes `%2F`. */
export function encodeSegment(decoded: string): string {
  return decoded.replace(ENCODE, escapeChar);
}

/** A pattern's literal text in the canonical encoding: its `/` separate segments, its escapes are decoded first. */
export function literalText(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return text
    .split('/')
    .map((piece) => encodeSegment(decodePath(piece)))
    .join('/');
}

function subjectOf(raw: string): string {
  // Most paths hold nothing to decode or encode: cleanPath alone gives the subject.
  if (!NEEDS_WORK.test(raw)) return cleanPath(raw);
  const trailing = raw.length > 1 && raw.endsWith('/');
  const out: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '') continue;
    const d = decodePath(seg);
    if (d === '.') continue;
    if (d === '..') out.pop();
    else out.push(encodeSegment(d));
  }
  const joined = `/${out.join('/')}`;
  return trailing && joined !== '/' ? `${joined}/` : joined;
}

// The last path and its subject: every pattern route a request meets reads the same path.
let lastRaw: string | undefined;
let lastSubject = '';

/** The subject the `pattern` matcher matches `rawPath` (the path as sent) against. */
export function patternSubject(rawPath: string): string {
  if (rawPath !== lastRaw) {
    lastSubject = subjectOf(rawPath);
    lastRaw = rawPath;
  }
  return lastSubject;
}
