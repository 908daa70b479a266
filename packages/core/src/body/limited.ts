import { Readable } from 'node:stream';
import { tooLarge } from './errors.js';

/**
 * The request body as `request_body` hands it on: the raw stream, read only when this one is,
 * that fails with a 413 HttpError as soon as more than `max` bytes arrived (Go's
 * `http.MaxBytesReader`). Failing or being destroyed never destroys the raw stream — that would
 * take the connection, and the 413, with it: the raw stream is paused and `abandon` decides what
 * becomes of the connection.
 */
export class LimitedBody extends Readable {
  readonly #raw: Readable;
  #max: number;
  #seen = 0;
  #attached = false;
  readonly #abandon: () => void;

  constructor(raw: Readable, max: number, abandon: () => void) {
    super({ highWaterMark: raw.readableHighWaterMark });
    this.#raw = raw;
    this.#max = max;
    this.#abandon = abandon;
  }

  /** The cap in force (a second `request_body` can only lower it). */
  get max(): number {
    return this.#max;
  }

  lower(max: number): void {
    if (max < this.#max) this.#max = max;
  }

  override _read(): void {
    if (!this.#attached) {
      this.#attached = true;
      const raw = this.#raw;
      raw.on('data', this.#onData);
      raw.on('end', this.#onEnd);
      raw.on('error', this.#onError);
      raw.on('close', this.#onClose);
    }
    this.#raw.resume();
  }

  #onData = (chunk: Buffer): void => {
    this.#seen += chunk.length;
    if (this.#seen > this.#max) {
      this.destroy(tooLarge(this.#max));
      return;
    }
    if (!this.push(chunk)) this.#raw.pause();
  };

  #onEnd = (): void => {
    this.#detach();
    this.push(null);
  };

  #onError = (err: Error): void => {
    this.destroy(err);
  };

  /** The client reset or went away mid-body: an error, never a clean end. */
  #onClose = (): void => {
    if (!this.#raw.readableEnded) this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  };

  #detach(): void {
    const raw = this.#raw;
    raw.off('data', this.#onData);
    raw.off('end', this.#onEnd);
    raw.off('error', this.#onError);
    raw.off('close', this.#onClose);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.#attached && !this.#raw.readableEnded) {
      this.#detach();
      this.#raw.pause();
      this.#abandon();
    }
    cb(err);
  }
}
