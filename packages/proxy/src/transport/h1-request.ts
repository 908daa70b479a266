import type { HeaderRecord } from '../hop.js';

/**
 * A request's head as it goes on the wire to an upstream, in one string written as Latin-1:
 * the request line and every field, validated so that nothing a client or a placeholder put in a
 * value can end a line early (request splitting) or reach the upstream as something else.
 */

/** A request the transport refuses to send; the client gets 502 and nothing reached the upstream. */
export class RequestHeadError extends Error {
  readonly code = 'FERRY_UPSTREAM_BAD_REQUEST';
  constructor(message: string) {
    super(`cannot forward the request: ${message}`);
    this.name = 'RequestHeadError';
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a field value may hold as Latin-1 bytes: no control character but HTAB, nothing past U+00FF. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A request target: visible ASCII (and the bytes Node lets through) without space or controls. */
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;

/** Field names checked before: the token test runs once per name. Bounded, as names may come from requests. */
const NAMES = new Set<string>();
const MAX_NAMES = 1024;

function checkName(name: string): void {
  if (NAMES.has(name)) return;
  if (!TOKEN.test(name)) throw new RequestHeadError(`field name ${JSON.stringify(name.slice(0, 32))} is no token`);
  if (NAMES.size < MAX_NAMES) NAMES.add(name);
}

/**
 * The last head by line, each line once checked. A client sends the same fields in the same
 * order request after request (Host, User-Agent, Accept…), and the proxy adds the same forwarded
 * ones: a line whose name and value equal what its place held before was checked then (an equal
 * string is a pointer or a byte compare where a check is a regexp call), and is that line's
 * string. A head whose every line is the last one's is the last head's string itself: nothing
 * built, nothing to flatten before the write. Bounded: CHECKED_LINES lines, values of up to
 * CHECKED_LENGTH characters (a longer one is checked each time, and not kept).
 */
const checkedNames: (string | undefined)[] = [];
const checkedValues: (string | undefined)[] = [];
/** The lines themselves: lines[0] the request line, then `name: value\r\n`. */
const lines: string[] = [];
const CHECKED_LINES = 64;
const CHECKED_LENGTH = 256;
/** The last method and target checked, alike. */
let checkedMethod: string | undefined;
let checkedTarget: string | undefined;
/** Stores into lines[] so far: a head that failed half-way may have changed some. */
let changes = 0;
/** The last head, made of lines[0] to lines[lastCount] and lastEnd while `changes` is still rememberedAt. */
let lastHead = '';
let lastCount = -1;
let lastEnd = '';
let rememberedAt = -1;

function requestLine(method: string, target: string): string {
  if (method === checkedMethod && target === checkedTarget) return lines[0]!;
  if (method !== checkedMethod && !TOKEN.test(method))
    throw new RequestHeadError(`method ${JSON.stringify(method.slice(0, 32))} is no token`);
  if (target !== checkedTarget && !TARGET.test(target))
    throw new RequestHeadError('the request target holds a space or a control character');
  const kept = method.length <= CHECKED_LENGTH && target.length <= CHECKED_LENGTH;
  checkedMethod = kept ? method : undefined;
  checkedTarget = kept ? target : undefined;
  changes++;
  lines[0] = `${method} ${target} HTTP/1.1\r\n`;
  return lines[0];
}

/** Field line `at` (from 1): the last head's own string when its name and value are the same. */
function fieldLine(name: string, value: string, at: number): string {
  const remembered = at < CHECKED_LINES;
  if (remembered && name === checkedNames[at] && value === checkedValues[at]) return lines[at]!;
  checkName(name);
  if (!FIELD_VALUE.test(value)) throw new RequestHeadError(`the value of ${name} holds a control character or a character beyond U+00FF`);
  const line = `${name}: ${value}\r\n`;
  if (remembered) {
    checkedNames[at] = name;
    checkedValues[at] = value.length <= CHECKED_LENGTH ? value : undefined;
    lines[at] = line;
    changes++;
  }
  return line;
}

/** lines[0] to lines[count - 1], joined: the start a head shares with the last one. */
function joined(count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += lines[i];
  return text;
}

/**
 * The head requestHead is building (it runs to its end or throws, never interleaved): the text so
 * far, undefined while every line is the last head's; the field lines added; `changes` when it began.
 */
let building: string | undefined;
let added = 0;
let changesAtStart = 0;

function add(name: string, value: string): void {
  const line = fieldLine(name, value, ++added);
  if (building !== undefined) building += line;
  // A line not the last head's (fieldLine stored it): the same start, then this one. (A line past
  // the last head's end that fieldLine knew is right in lines[]; the count is compared at the end.)
  else if (changes !== changesAtStart) building = joined(added) + line;
}

/**
 * The head, ending in the blank line. `host` is added when the fields have none (HTTP/1.1 needs
 * one); `chunked`: the body goes with chunked coding (it has no Content-Length); `keepAlive`:
 * whether the connection is to be kept (`Connection: keep-alive` or `close`). Throws
 * RequestHeadError for a method, target, field name or value that cannot be sent as it is.
 */
export function requestHead(
  method: string,
  target: string,
  headers: HeaderRecord,
  host: string,
  chunked: boolean,
  keepAlive: boolean,
): string {
  changesAtStart = changes;
  added = 0;
  building = requestLine(method, target);
  if (changes === changesAtStart && rememberedAt === changesAtStart) building = undefined;
  let hasHost = false;
  // for…in and an own-property test, as hop.ts copy() walks a record.
  for (const name in headers) {
    // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is not folded into the for…in loop
    if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
    const v = headers[name];
    if (v === undefined) continue;
    if (name === 'host' || (name.length === 4 && name.toLowerCase() === 'host')) hasHost = true;
    if (!Array.isArray(v)) add(name, typeof v === 'string' ? v : String(v));
    // A name with no values puts no line on the wire, but is still refused when it is no token.
    else if (v.length === 0) checkName(name);
    else for (const one of v) add(name, one);
  }
  if (!hasHost) add('host', host);
  // Connection is redundant in HTTP/1.1 but said, as undici did: upstreams have long seen it from Ferry.
  const end = keepAlive ? (chunked ? KEEP_CHUNKED : KEEP) : chunked ? CLOSE_CHUNKED : CLOSE;
  if (building === undefined && added === lastCount && end === lastEnd) return lastHead;
  const head = (building ?? joined(added + 1)) + end;
  building = undefined;
  lastHead = head;
  lastCount = added < CHECKED_LINES ? added : -1;
  lastEnd = end;
  rememberedAt = changes;
  return head;
}

const KEEP = 'connection: keep-alive\r\n\r\n';
const KEEP_CHUNKED = 'connection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n';
const CLOSE = 'connection: close\r\n\r\n';
const CLOSE_CHUNKED = 'connection: close\r\ntransfer-encoding: chunked\r\n\r\n';

const LENGTH = /^[0-9]{1,15}$/;

/**
 * Refuses framing fields that would disagree with the body the transport sends (it frames the
 * body itself: as its Content-Length says, else chunked): a Transfer-Encoding, a Content-Length
 * that is not one decimal number, or one other than 0 on a request without a body. A header
 * operation may set any of them; sent, the upstream would read the connection's next request as
 * this one's body (undici, before, refused them too). Throws RequestHeadError.
 */
export function checkFraming(headers: HeaderRecord, hasBody: boolean): void {
  if (headers['transfer-encoding'] !== undefined)
    throw new RequestHeadError('a Transfer-Encoding field: the transport frames the body itself');
  const length = headers['content-length'];
  if (length === undefined) return;
  const value = Array.isArray(length) ? length.join(', ') : String(length);
  if (!LENGTH.test(value)) throw new RequestHeadError(`Content-Length ${JSON.stringify(value.slice(0, 32))} is not one decimal number`);
  if (!hasBody && Number(value) !== 0) throw new RequestHeadError('a Content-Length on a request sent without a body');
}

/** The framing of one chunk of a chunked body (RFC 9112 §7.1). */
export function chunkHeader(length: number): string {
  return `${length.toString(16)}\r\n`;
}

/** The last chunk and the end of an empty trailer section. */
export const LAST_CHUNK = '0\r\n\r\n';
