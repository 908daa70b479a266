import { isPrototypeKey } from './prototype-keys.js';

/**
 * "Did you mean": the known names closest to a name Ferry does not know (an option, a handler, a
 * matcher), for config error messages. Only the failure path runs this, never a request.
 */

/**
 * Names longer than this get no suggestion: no option or module name comes close to it, and the
 * distance is quadratic in the length (a 100 KB key in a config must cost nothing).
 */
const MAX_NAME = 64;

/** The most names one message suggests (ties at the best distance). */
const MAX_SUGGESTIONS = 3;

/**
 * Damerau–Levenshtein distance in its optimal-string-alignment form (insertions, deletions,
 * substitutions, and transpositions of two adjacent characters each cost 1), or `limit + 1` as
 * soon as it is known to exceed `limit`. Both strings are expected to be at most MAX_NAME long.
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  // Three rows: the one before the previous (for transpositions), the previous, the current.
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

/** `statusCode`, `Status-Code` and `status_code` are the same name to a reader: compare them so. */
function normalize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_');
}

/** How far a name may be from a known one and still be taken for a typo of it: about 40 % of its length. */
function allowedDistance(length: number): number {
  return Math.floor(length * 0.4);
}

/**
 * How close `name` is to `known`: its edit distance (after normalizing case and separators), or,
 * when the one is the other with a `_`-separated word more (`status` and `status_code`, `timeout`
 * and `dial_timeout`), a little more than one typo. Undefined when they are not close.
 */
function closeness(name: string, known: string): number | undefined {
  const k = normalize(known);
  const limit = allowedDistance(name.length);
  const d = editDistance(name, k, limit);
  if (d <= limit) return d;
  if (name.length >= 3 && (k.startsWith(`${name}_`) || k.endsWith(`_${name}`) || name.startsWith(`${k}_`) || name.endsWith(`_${k}`))) {
    return 1.5;
  }
  return undefined;
}

/**
 * The known names closest to `name`, best first: those at the smallest distance (at most three),
 * or none when nothing is close. Prototype names (`__proto__`, `constructor`) are never suggested,
 * nor suggested for.
 */
export function closestNames(name: string, known: Iterable<string>): string[] {
  if (name.length === 0 || name.length > MAX_NAME || isPrototypeKey(name)) return [];
  const n = normalize(name);
  let best = Number.POSITIVE_INFINITY;
  let found: string[] = [];
  for (const k of known) {
    if (k === name || k.length > MAX_NAME || isPrototypeKey(k)) continue;
    const d = closeness(n, k);
    if (d === undefined || d > best) continue;
    if (d < best) {
      best = d;
      found = [];
    }
    if (!found.includes(k)) found.push(k);
  }
  return found.slice(0, MAX_SUGGESTIONS);
}

/** `did you mean "a"?` / `did you mean "a" or "b"?` for the names closest to `name`; '' when none is close. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const names = closestNames(name, known).map((k) => JSON.stringify(k));
  if (names.length === 0) return '';
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return `did you mean ${list}?`;
}
