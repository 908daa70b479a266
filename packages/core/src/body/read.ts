import type { IncomingHttpHeaders } from 'node:http';
import type { TextDecoder } from 'node:util';
import { HttpError } from '../errors.js';
import { isWhole } from '../release_reads.js';
import { type Collected, collect, declaredLength, releaseCollected } from './collect.js';
import { tooLarge, wrongType } from './errors.js';
import { parseForm } from './form.js';
import { parseJson } from './json.js';
import { BODY_DEFAULTS, type BodyOptions, checkCount, effectiveLimit, type FormDataOptions } from './limits.js';
import { decode, decoderFor, isJson, MULTIPART, mediaType, URLENCODED } from './media.js';
import type { BodyState } from './state.js';
import { type InferOutput, isStandardSchema, type StandardSchemaV1, validateBody } from './validate.js';

// The readers behind req.json(), text(), arrayBuffer() and formData(). Each checks, in order and
// before reading a byte (so before any 100 Continue): a second read, the Content-Type, a
// Content-Length past the limit. Then it reads, refusing the body the moment it passes the limit.

/** Checks the announced length and takes the body; the bytes, refused past `limit`. */
function readBytes(state: BodyState, headers: IncomingHttpHeaders, limit: number): Promise<Collected> {
  const announced = declaredLength(headers['content-length']);
  if (announced !== undefined && announced > limit) throw tooLarge(limit);
  state.take();
  return collect(state, state.stream, limit);
}

export async function readArrayBuffer(state: BodyState, headers: IncomingHttpHeaders, options?: BodyOptions): Promise<ArrayBuffer> {
  state.checkUnread();
  const { bytes, owned } = await readBytes(state, headers, effectiveLimit(options?.limit, state.cap, BODY_DEFAULTS.limit));
  if (owned && isWhole(bytes)) return bytes.buffer as ArrayBuffer;
  // A Buffer may be a view into Node's shared pool, or a read another listener got: the caller gets its own ArrayBuffer.
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export async function readText(state: BodyState, headers: IncomingHttpHeaders, options?: BodyOptions): Promise<string> {
  state.checkUnread();
  const decoder = decoderFor(mediaType(headers['content-type']));
  return decodeCollected(decoder, await readBytes(state, headers, effectiveLimit(options?.limit, state.cap, BODY_DEFAULTS.limit)));
}

export async function readJson(
  state: BodyState,
  headers: IncomingHttpHeaders,
  schemaOrOptions?: StandardSchemaV1 | BodyOptions,
  options?: BodyOptions,
): Promise<unknown> {
  state.checkUnread();
  const schema = isStandardSchema(schemaOrOptions) ? schemaOrOptions : undefined;
  const opts = schema ? options : (schemaOrOptions as BodyOptions | undefined);
  const type = mediaType(headers['content-type']);
  if (!isJson(type)) throw wrongType('JSON (Content-Type: application/json)');
  // RFC 8259 §8.1: JSON between systems is UTF-8.
  const decoder = decoderFor(type);
  if (decoder.encoding !== 'utf-8') throw new HttpError(415, 'a JSON request body must be UTF-8');
  const text = decodeCollected(decoder, await readBytes(state, headers, effectiveLimit(opts?.limit, state.cap, BODY_DEFAULTS.limit)));
  const value = parseJson(text);
  return schema ? validateBody(schema, value) : value;
}

/** The body as text; its bytes are freed then, whether or not they decoded. */
function decodeCollected(decoder: TextDecoder, body: Collected): string {
  try {
    return decode(decoder, body.bytes);
  } finally {
    releaseCollected(body);
  }
}

/** busboy's names for the charsets it decodes an urlencoded body in (it yields nothing for others). */
const FORM_CHARSETS: Record<string, string> = { 'utf-8': 'utf8', 'windows-1252': 'latin1', 'utf-16le': 'utf16le' };

export async function readFormData(state: BodyState, headers: IncomingHttpHeaders, options?: FormDataOptions): Promise<FormData> {
  state.checkUnread();
  const type = mediaType(headers['content-type']);
  const multipart = type?.essence === MULTIPART;
  if (!multipart && type?.essence !== URLENCODED) throw wrongType(`a form (Content-Type: ${URLENCODED} or ${MULTIPART})`);
  checkCount('fields', options?.fields);
  checkCount('files', options?.files);
  let contentType: string;
  if (multipart) contentType = type.toString();
  else {
    const charset = FORM_CHARSETS[decoderFor(type).encoding];
    if (charset === undefined) throw new HttpError(415, 'request body charset is not supported');
    contentType = `${URLENCODED}; charset=${charset}`;
  }
  const limit = effectiveLimit(options?.limit, state.cap, multipart ? BODY_DEFAULTS.multipartLimit : BODY_DEFAULTS.limit);
  const announced = declaredLength(headers['content-length']);
  if (announced !== undefined && announced > limit) throw tooLarge(limit);
  state.take();
  return parseForm(state, state.stream, contentType, {
    limit,
    fields: options?.fields ?? BODY_DEFAULTS.fields,
    files: multipart ? (options?.files ?? BODY_DEFAULTS.files) : 0,
    fieldNameSize: BODY_DEFAULTS.fieldNameSize,
  });
}

export type { InferOutput, StandardSchemaV1 };
