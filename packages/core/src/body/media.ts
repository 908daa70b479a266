import { MIMEType, TextDecoder } from 'node:util';
import { HttpError } from '../errors.js';

/** A request's Content-Type, parsed (WHATWG MIME type rules); undefined when absent or unparseable. */
export function mediaType(value: string | undefined): MIMEType | undefined {
  if (value === undefined) return undefined;
  try {
    return new MIMEType(value);
  } catch {
    return undefined;
  }
}

/** `application/json` and every `+json` type (RFC 6839 §3.1: `application/problem+json`, `…/ld+json`). */
export function isJson(type: MIMEType | undefined): boolean {
  return type !== undefined && (type.essence === 'application/json' || type.subtype.endsWith('+json'));
}

export const URLENCODED = 'application/x-www-form-urlencoded';
export const MULTIPART = 'multipart/form-data';

/**
 * A decoder for the body's charset (UTF-8 when none is named). A charset Node cannot decode is
 * a 415; the client's label is not repeated in the answer.
 */
export function decoderFor(type: MIMEType | undefined): TextDecoder {
  const label = type?.params.get('charset') ?? 'utf-8';
  try {
    return new TextDecoder(label, { fatal: true });
  } catch {
    throw new HttpError(415, 'request body charset is not supported');
  }
}

/** The bytes as text; bytes that are not valid in the charset are a 400, never replaced silently. */
export function decode(decoder: TextDecoder, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (err) {
    throw new HttpError(400, `request body is not valid ${decoder.encoding}`, { cause: err });
  }
}
