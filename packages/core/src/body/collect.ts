import type { Readable } from 'node:stream';
import { HttpError } from '../errors.js';
import { isWhole, MIN_RELEASED, release, soleRead, startReleasing } from '../release_reads.js';
import { cutShort, tooLarge } from './errors.js';
import type { BodyState } from './state.js';

/** A whole body, and whether its memory is held by nothing else (Buffer.concat's, or a read only Ferry got). */
export interface Collected {
  bytes: Buffer;
  owned: boolean;
}

/**
 * Reads the whole body into one Buffer, refusing it with a 413 the moment it passes `limit`:
 * the bytes after that are never read (the stream is paused and the body abandoned, so the
 * connection does not wait on them). Listeners rather than `for await`: leaving a `for await`
 * early destroys the stream, and destroying a request destroys its socket — and the 413 with it.
 * Reads of Node's own that only this listener got are freed once joined (release_reads.ts).
 */
export function collect(state: BodyState, stream: Readable, limit: number): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sole: Buffer[] = [];
    const releasing = startReleasing(stream);
    let size = 0;
    const detach = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (err: HttpError) => {
      detach();
      stream.pause();
      state.abandon();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return fail(tooLarge(limit));
      chunks.push(chunk);
      if (releasing && soleRead(stream, chunk)) sole.push(chunk);
    };
    const onEnd = () => {
      detach();
      if (chunks.length === 1) return resolve({ bytes: chunks[0]!, owned: sole.length === 1 });
      const bytes = Buffer.concat(chunks, size);
      for (const read of sole) release(read);
      resolve({ bytes, owned: true });
    };
    // request_body's own 413 passes through as it is; anything else is the client cutting the body short.
    const onError = (err: unknown) => fail(err instanceof HttpError ? err : cutShort(err));
    const onClose = () => {
      if (!stream.readableEnded) onError(new Error('body stream closed before its end'));
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** Frees a collected body once read into something else (a string, a value): its bytes read empty after. */
export function releaseCollected({ bytes, owned }: Collected): void {
  if (owned && bytes.byteLength >= MIN_RELEASED && isWhole(bytes)) release(bytes);
}

/** The declared Content-Length, or undefined (absent, or not a number Node would have accepted). */
export function declaredLength(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
