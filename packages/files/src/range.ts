/**
 * The Range field of a GET (RFC 9110 §14.2): one satisfiable range is served as 206; none
 * satisfiable is 416; a field that is not a valid `bytes=` set is ignored (§14.2 allows it); and
 * several satisfiable ranges get the whole file as 200, which §14.2 also allows (a server may
 * ignore Range), sparing a multipart/byteranges body that clients seldom ask for and caches
 * mishandle.
 */

/** What the Range field asks of a file of known size. */
export type RangeAnswer =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const FULL: RangeAnswer = { kind: 'full' };
const UNSATISFIABLE: RangeAnswer = { kind: 'unsatisfiable' };

/** More ranges than this in one field are not worth parsing: the whole file is served. */
const MAX_RANGES = 64;

const SPEC = /^(\d*)-(\d*)$/;

/** The byte range (`end` inclusive) one `first-last` / `first-` / `-suffix` spec selects, or undefined when it selects nothing. */
function rangeOf(spec: string, size: number): { start: number; end: number } | 'invalid' | undefined {
  const m = SPEC.exec(spec.trim());
  if (!m) return 'invalid';
  const [, a, b] = m;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    // A suffix range: the last N bytes (§14.1.2); N = 0 selects nothing.
    const n = Number(b);
    if (n === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return 'invalid';
  if (start >= size) return undefined;
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return { start, end };
}

/** Parses a Range field against a file of `size` bytes. */
export function parseRange(field: string, size: number): RangeAnswer {
  const eq = field.indexOf('=');
  if (eq === -1 || field.slice(0, eq).trim().toLowerCase() !== 'bytes') return FULL;
  const specs = field.slice(eq + 1).split(',');
  if (specs.length > MAX_RANGES) return FULL;
  let found: { start: number; end: number } | undefined;
  let count = 0;
  let specified = false;
  for (const spec of specs) {
    if (spec.trim() === '') continue;
    specified = true;
    const r = rangeOf(spec, size);
    if (r === 'invalid') return FULL;
    if (r === undefined) continue;
    found ??= r;
    count++;
  }
  if (!specified) return FULL;
  if (found === undefined) return UNSATISFIABLE;
  if (count > 1) return FULL;
  return { kind: 'partial', start: found.start, end: found.end };
}
