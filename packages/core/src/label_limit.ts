/**
 * Metric label values that come from requests or from config placeholders (a topic, a host, an
 * upstream's dial), bounded: every distinct value is a time series, so a client naming 30,000
 * topics would otherwise make 30,000 series — megabytes per scrape and an event loop blocked while
 * they are rendered. The first `limit` distinct values keep their own series; every later one is
 * counted under `overflow`.
 */
export class LabelLimit {
  readonly #seen = new Set<string>();

  constructor(
    readonly limit = 1000,
    readonly overflow = 'other',
  ) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`LabelLimit: limit must be a non-negative integer, got ${limit}`);
  }

  /** The label value to record `value` under. */
  value(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size >= this.limit) return this.overflow;
    this.#seen.add(value);
    return value;
  }
}

/** RFC 9110 §9 methods and PATCH (RFC 5789): the method label's only values besides `OTHER`, as Caddy's. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** The request method as a metric label: h2 accepts any token as `:method`, so unknown ones are `OTHER`. */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}
