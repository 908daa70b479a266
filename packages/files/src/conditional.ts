import type { IncomingHttpHeaders } from 'node:http';

/**
 * Conditional requests on a file (RFC 9110 §13): the preconditions evaluated in the order of
 * §13.2.2, against the file's strong ETag and its modification time (whole seconds, as
 * HTTP-dates carry them).
 */

/** What the preconditions decide: serve, or answer 304 or 412 without a body. */
export type Precondition = 'serve' | 304 | 412;

/** The entity tags of an If-Match / If-None-Match list, or `*`. */
function tagsOf(field: string): string[] | '*' {
  const v = field.trim();
  if (v === '*') return '*';
  // Tags hold no comma or space (RFC 9110 §8.8.3: etagc), so a list splits on commas.
  return v
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/** Strong comparison (§8.8.3.2): both strong, same opaque tag. */
function strongMatch(list: string[] | '*', etag: string): boolean {
  if (list === '*') return true;
  if (etag.startsWith('W/')) return false;
  return list.some((t) => !t.startsWith('W/') && t === etag);
}

/** Weak comparison: same opaque tag, either may be weak. */
function weakMatch(list: string[] | '*', etag: string): boolean {
  if (list === '*') return true;
  const o = opaque(etag);
  return list.some((t) => opaque(t) === o);
}

/** An HTTP-date in seconds, or undefined when it is not one (then the field is ignored, §13.1.3/§13.1.4). */
export function httpDateSeconds(field: string | undefined): number | undefined {
  if (field === undefined) return undefined;
  const ms = Date.parse(field);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since for a GET or HEAD. */
export function evaluatePreconditions(
  headers: IncomingHttpHeaders,
  etag: string | undefined,
  mtimeSeconds: number | undefined,
): Precondition {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (etag === undefined || !strongMatch(tagsOf(ifMatch), etag)) return 412;
  } else if (mtimeSeconds !== undefined) {
    const since = httpDateSeconds(headers['if-unmodified-since']);
    if (since !== undefined && mtimeSeconds > since) return 412;
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (etag !== undefined && weakMatch(tagsOf(ifNoneMatch), etag)) return 304;
    // '*' matches any current representation, and this one exists.
    if (ifNoneMatch.trim() === '*') return 304;
  } else if (mtimeSeconds !== undefined) {
    const since = httpDateSeconds(headers['if-modified-since']);
    if (since !== undefined && mtimeSeconds <= since) return 304;
  }
  return 'serve';
}

/**
 * If-Range (§13.1.5): whether a Range may be honoured. An entity tag must match strongly; a date
 * must be exactly the file's modification time.
 */
export function ifRangeHolds(field: string | undefined, etag: string | undefined, mtimeSeconds: number | undefined): boolean {
  if (field === undefined) return true;
  const v = field.trim();
  if (v.startsWith('"') || v.startsWith('W/"')) return etag !== undefined && !v.startsWith('W/') && v === etag && !etag.startsWith('W/');
  const date = httpDateSeconds(v);
  return date !== undefined && mtimeSeconds !== undefined && date === mtimeSeconds;
}
