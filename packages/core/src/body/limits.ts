/**
 * How much of a request body the readers (`req.json()`, `text()`, `arrayBuffer()`, `formData()`)
 * accept when nothing else is said. A `request_body` handler earlier in the chain replaces these
 * with its `max_size`; a reader's own `limit` option replaces both, but never lets more through
 * than `request_body` does.
 */
export const BODY_DEFAULTS = Object.freeze({
  /** `json()`, `text()`, `arrayBuffer()` and urlencoded `formData()`: 1 MiB. */
  limit: 1024 * 1024,
  /** multipart `formData()`: 10 MiB, files included (they are held in memory). */
  multipartLimit: 10 * 1024 * 1024,
  /** `formData()`: at most this many fields (non-file entries). */
  fields: 1000,
  /** multipart `formData()`: at most this many files. */
  files: 100,
  /** `formData()`: bytes in one field's name. */
  fieldNameSize: 1024,
});

/** Options of `req.json()`, `req.text()` and `req.arrayBuffer()`. */
export interface BodyOptions {
  /**
   * The most bytes to read (`Infinity`: no limit of the reader's own). Default 1 MiB, or the
   * `max_size` of a `request_body` handler that ran before; never more than that `max_size`.
   */
  limit?: number;
}

/** Options of `req.formData()`. */
export interface FormDataOptions extends BodyOptions {
  /** The most fields (non-file entries). Default 1000. */
  fields?: number;
  /** The most files (multipart only). Default 100. */
  files?: number;
}

/** Refuses an option that is not a count, so a typo fails loudly instead of lifting a limit. */
export function checkCount(name: string, value: number | undefined): void {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return;
  if (!Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`${name} must be a non-negative integer or Infinity, got ${String(value)}`);
}

/**
 * The limit a reader applies: its own option, else `request_body`'s cap, else its default — and
 * never past the cap.
 */
export function effectiveLimit(own: number | undefined, cap: number | undefined, fallback: number): number {
  checkCount('limit', own);
  const wanted = own ?? cap ?? fallback;
  return cap === undefined ? wanted : Math.min(wanted, cap);
}
