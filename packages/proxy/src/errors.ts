/** Why a round trip failed, which decides the client's status and whether to retry. */
export type FailureKind = 'dial' | 'timeout' | 'upstream' | 'client-gone';

/** A round trip that failed before any byte of the response reached the client. */
export class RoundTripError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RoundTripError';
  }
}

const DIAL_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT', 'ERR_HTTP2_STREAM_TIMEOUT']);

/** Sorts a transport error into dial failure (safe to retry anywhere), timeout, or other. */
export function classify(err: unknown): RoundTripError {
  if (err instanceof RoundTripError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  if (TIMEOUT_CODES.has(code)) return new RoundTripError('timeout', `upstream timed out (${code})`, { cause: err });
  if (DIAL_CODES.has(code)) return new RoundTripError('dial', `cannot connect to upstream (${code})`, { cause: err });
  return new RoundTripError('upstream', `upstream failed: ${e?.message ?? String(err)}`, { cause: err });
}

/** Failure after the response started: the client's response must be aborted, never ended. */
export class MidBodyError extends Error {
  constructor(cause: unknown) {
    super('upstream failed mid-response', { cause });
    this.name = 'MidBodyError';
  }
}
