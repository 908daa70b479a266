import { HttpError } from '../errors.js';

/**
 * A second read of a request body (`req.json()` after `req.text()`, or after `req.body` was
 * read as a stream): the bytes are gone. A programming error, so it answers 500; keep the value
 * the first read returned instead.
 */
export class BodyUsedError extends Error {
  /** `FERRY_ERR_BODY_USED` (docs/errors.md). */
  readonly code = 'FERRY_ERR_BODY_USED';
  constructor() {
    super('the request body was already read: read it once (req.json(), text(), arrayBuffer(), formData() or req.body) and keep the value');
    this.name = 'BodyUsedError';
  }
}

/** 413 for a body past `limit` bytes. */
export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `request body larger than ${limit} bytes`);
}

/** 415 naming what the reader accepts (never the type the client sent). */
export function wrongType(accepted: string): HttpError {
  return new HttpError(415, `request body must be ${accepted}`);
}

/** 400 for a body that ended before it was complete (the client reset or went away). */
export function cutShort(cause: unknown): HttpError {
  return new HttpError(400, 'request body ended before it was complete', { cause });
}
