import type { HeaderRecord } from '../hop.js';

/**
 * An HTTP/1.x response read from an upstream connection, byte by byte as it arrives (RFC 9112):
 * the status line and fields, any 1xx before the final head, then the body framed by
 * Content-Length, chunked coding or the connection's close. Strict where leniency lets a
 * response be read two ways (response splitting, smuggling through a reused connection):
 * bare CR or LF, obs-fold, space before the colon, invalid field bytes, conflicting or
 * non-numeric Content-Length, Transfer-Encoding other than `chunked`, or both framings at once
 * are errors, and the connection is never reused after one.
 */

/** A response the parser refused; the round trip fails with 502 and the connection is closed. */
export class ResponseParseError extends Error {
  readonly code = 'FERRY_UPSTREAM_BAD_RESPONSE';
  constructor(message: string) {
    super(`upstream sent an invalid HTTP/1.1 response: ${message}`);
    this.name = 'ResponseParseError';
  }
}

/** What the parser reports, in order: any 1xx heads, the final head, body chunks, then the end. */
export interface ResponseEvents {
  informational(status: number, headers: HeaderRecord): void;
  head(status: number, headers: HeaderRecord, statusText: string): void;
  /** A slice of the connection's own buffer: valid until the next read, copied by whoever keeps it. */
  body(chunk: Buffer): void;
  /** The response is complete; `reusable`: the connection may carry another request. */
  complete(reusable: boolean): void;
}

/** The limits the parser enforces, in bytes. */
export const MAX_HEAD_BYTES = 16 * 1024;
const MAX_CHUNK_LINE = 4 * 1024;
/** 1xx heads one response may carry before its final head (a flood of 103s is an attack). */
const MAX_INFORMATIONAL = 16;

enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIGITS = /^[0-9]{1,15}$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;

interface Head {
  version: number;
  status: number;
  statusText: string;
  headers: HeaderRecord;
}

/** A control character other than HTAB, CR and LF (a Latin-1 string holds nothing past U+00FF). */
const CONTROL = /[^\t\r\n\x20-\x7e\x80-\xff]/;

/**
 * Where the line that starts at `at` ends: its CRLF, or the end of the head. A CR or LF that is
 * not part of a CRLF pair is an error (one response read two ways: splitting).
 */
function lineEnd(text: string, at: number): number {
  const cr = text.indexOf('\r', at);
  const lf = text.indexOf('\n', at);
  if (cr === -1 && lf === -1) return text.length;
  if (lf !== cr + 1 || cr === -1) throw new ResponseParseError('a CR or LF alone in the head');
  return cr;
}

/** Field names seen before, as received → lower case: the token check and the lower-casing run once per name. */
const NAMES = new Map<string, string>();
const MAX_NAMES = 1024;

function fieldName(name: string): string {
  const known = NAMES.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) throw new ResponseParseError(`bad header name ${JSON.stringify(name.slice(0, 64))}`);
  const lower = name.toLowerCase();
  // Bounded: names come from the upstream, which may make up as many as it likes.
  if (NAMES.size < MAX_NAMES) NAMES.set(name, lower);
  return lower;
}

/** The field value in `text` from `from` to `to`, without the optional whitespace (SP, HTAB) around it. */
function trimOws(line: string, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return line.slice(start, end);
}

const DIGIT_0 = 48;
const DIGIT_1 = 49;
const DIGIT_9 = 57;
const SPACE = 32;
const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;

/**
 * The status line `HTTP/1.x NNN[ reason]` (RFC 9112 §4): the version's minor digit and the status,
 * or undefined. A status from 100 to 999: none below 100 is defined, and a 0xx head was taken for a
 * 1xx one. Its characters were checked with the rest of the head (CONTROL, lineEnd).
 */
function statusLine(line: string): { minor: number; status: number; reason: string } | undefined {
  if (!line.startsWith('HTTP/1.') || line.length < 12) return undefined;
  const minor = line.charCodeAt(7) - DIGIT_0;
  const s0 = line.charCodeAt(9);
  const s1 = line.charCodeAt(10);
  const s2 = line.charCodeAt(11);
  if ((minor !== 0 && minor !== 1) || line.charCodeAt(8) !== SPACE) return undefined;
  if (s0 < DIGIT_1 || s0 > DIGIT_9 || !isDigit(s1) || !isDigit(s2)) return undefined;
  if (line.length > 12 && line.charCodeAt(12) !== SPACE) return undefined;
  return { minor, status: (s0 - DIGIT_0) * 100 + (s1 - DIGIT_0) * 10 + (s2 - DIGIT_0), reason: line.slice(13) };
}

/** Splits a head (without its final CRLFCRLF) into status and fields; throws ResponseParseError. */
export function parseHead(text: string): Head {
  if (CONTROL.test(text)) throw new ResponseParseError('a control character in the head');
  let eol = lineEnd(text, 0);
  const status = statusLine(text.slice(0, eol));
  if (status === undefined) throw new ResponseParseError(`bad status line ${JSON.stringify(text.slice(0, Math.min(eol, 64)))}`);
  const headers: HeaderRecord = {};
  for (let at = eol + 2; at < text.length; at = eol + 2) {
    eol = lineEnd(text, at);
    const colon = text.indexOf(':', at);
    // No colon or an empty name; obs-fold (a leading space) and space before the colon fail the token check.
    if (colon <= at || colon > eol)
      throw new ResponseParseError(`bad header line ${JSON.stringify(text.slice(at, Math.min(eol, at + 64)))}`);
    const key = fieldName(text.slice(at, colon));
    const value = trimOws(text, colon + 1, eol);
    const prior = headers[key];
    if (prior === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[key] = [prior as string, value];
  }
  return { version: status.minor, status: status.status, statusText: status.reason, headers };
}

/**
 * The body's length from its Content-Length field, -1 when there is none; throws when it is not
 * digits. Read after collapseLength, which leaves one value of agreeing fields and refuses others.
 */
function contentLength(v: HeaderRecord[string]): number {
  if (v === undefined) return -1;
  const value = String(v);
  if (!DIGITS.test(value)) throw new ResponseParseError(`bad Content-Length ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * Repeated Content-Length fields that agree become one (RFC 9110 §8.6, as Go's transport does):
 * passed on as two lines, a client refuses the response. Fields that disagree are refused here
 * even for a response without a body (HEAD, 204, 304).
 */
function collapseLength(headers: HeaderRecord): void {
  const v = headers['content-length'];
  if (!Array.isArray(v)) return;
  if (v.some((x) => x !== v[0])) throw new ResponseParseError(`Content-Length fields disagree: ${JSON.stringify(v.join(', '))}`);
  headers['content-length'] = v[0];
}

/** How a final response's body is delimited (RFC 9112 §6.3): a length, chunked, or the connection's close. */
function framingOf(headers: HeaderRecord): number | 'chunked' | 'close' {
  const te = headers['transfer-encoding'];
  const length = contentLength(headers['content-length']);
  if (te === undefined) return length === -1 ? 'close' : length;
  if (length !== -1) throw new ResponseParseError('both Transfer-Encoding and Content-Length');
  if ((Array.isArray(te) ? te.join(',') : String(te)).trim().toLowerCase() !== 'chunked')
    throw new ResponseParseError(`unsupported Transfer-Encoding ${JSON.stringify(te)}`);
  return 'chunked';
}

/** Whether the comma-separated field value `v` lists `token` (lower case), in any case. */
function hasToken(v: HeaderRecord[string], token: string): boolean {
  if (v === undefined) return false;
  const s = (typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : String(v)).toLowerCase();
  // The common answer (`Connection: keep-alive` asked for `close`) without a list made: 4x faster.
  if (!s.includes(token)) return false;
  return s.split(',').some((t) => t.trim() === token);
}

export class ResponseParser {
  #state = State.Head;
  /** Head or chunk-size bytes read so far, when they spanned reads. */
  #pending: Buffer | undefined;
  #remaining = 0;
  #keepAlive = true;
  #informational = 0;
  #trailerBytes = 0;

  /** `bodiless`: the request was HEAD, so the final response has no body whatever it says. */
  constructor(
    readonly events: ResponseEvents,
    readonly bodiless: boolean,
  ) {}

  /** True once the whole response was read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** True once the final head was read (an error after it must abort the client's response). */
  get started(): boolean {
    return this.#state !== State.Head;
  }

  /**
   * Reads `data`; returns how many bytes were left over after the response completed (bytes the
   * upstream sent beyond its framing, which make the connection unusable). Throws ResponseParseError.
   */
  feed(data: Buffer): number {
    let buf = data;
    let at = 0;
    while (at < buf.length) {
      switch (this.#state) {
        case State.Head: {
          // Where the terminator may start: a head read in pieces is not searched from its start each time.
          let from = at;
          if (this.#pending) {
            from = Math.max(0, this.#pending.length - 3);
            buf = Buffer.concat([this.#pending, buf.subarray(at)]);
            at = 0;
            this.#pending = undefined;
          }
          const end = buf.indexOf('\r\n\r\n', from, 'latin1');
          if (end === -1) {
            // Up to 3 bytes of the terminator may follow a head of the limit: refused or not whatever the reads.
            if (buf.length - at > MAX_HEAD_BYTES + 3) throw new ResponseParseError(`head larger than ${MAX_HEAD_BYTES} bytes`);
            // A copy: the caller may reuse its read buffer (chunks are valid until the next read).
            this.#pending = Buffer.from(buf.subarray(at));
            return 0;
          }
          if (end - at > MAX_HEAD_BYTES) throw new ResponseParseError(`head larger than ${MAX_HEAD_BYTES} bytes`);
          this.#onHead(parseHead(buf.toString('latin1', at, end)));
          at = end + 4;
          break;
        }
        case State.Length: {
          const n = Math.min(this.#remaining, buf.length - at);
          this.events.body(buf.subarray(at, at + n));
          at += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#finish();
          break;
        }
        case State.ChunkSize:
        case State.Trailers: {
          const line = this.#line(buf, at);
          if (line === undefined) return 0;
          at = line.next;
          if (this.#state === State.ChunkSize) this.#onChunkSize(line.text);
          else if (line.text === '') this.#finish();
          else if ((this.#trailerBytes += line.text.length + 2) > MAX_HEAD_BYTES) throw new ResponseParseError('trailers too large');
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.#remaining, buf.length - at);
          this.events.body(buf.subarray(at, at + n));
          at += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd: {
          const line = this.#line(buf, at);
          if (line === undefined) return 0;
          if (line.text !== '') throw new ResponseParseError('chunk data longer than its size');
          at = line.next;
          this.#state = State.ChunkSize;
          break;
        }
        case State.UntilClose:
          this.events.body(at === 0 ? buf : buf.subarray(at));
          return 0;
        case State.Done:
          return buf.length - at;
      }
    }
    return 0;
  }

  /** The connection closed: completes a close-delimited body; anything else was cut short. */
  eof(): void {
    if (this.#state === State.UntilClose) {
      this.#finish();
      return;
    }
    if (this.#state !== State.Done)
      throw new ResponseParseError(this.started ? 'connection closed mid-body' : 'connection closed before a response');
  }

  /** One CRLF-terminated line from `at` (joined with what spanned earlier reads), or undefined to wait for more. */
  #line(buf: Buffer, at: number): { text: string; next: number } | undefined {
    let b = buf;
    let from = at;
    if (this.#pending) {
      b = Buffer.concat([this.#pending, buf.subarray(at)]);
      from = 0;
      this.#pending = undefined;
    }
    const end = b.indexOf('\r\n', from, 'latin1');
    if (end === -1) {
      // The CR of its CRLF may follow a line of the limit.
      if (b.length - from > MAX_CHUNK_LINE + 1) throw new ResponseParseError('chunk line too long');
      this.#pending = Buffer.from(b.subarray(from));
      return undefined;
    }
    if (end - from > MAX_CHUNK_LINE) throw new ResponseParseError('chunk line too long');
    const text = b.toString('latin1', from, end);
    if (text.includes('\r') || text.includes('\n')) throw new ResponseParseError('bare CR or LF in chunked framing');
    // Positions are in `buf` again: what came from #pending was before `at`.
    return { text, next: buf.length - (b.length - (end + 2)) };
  }

  #onHead(h: Head): void {
    if (h.status < 200) {
      // 101 answers an Upgrade this transport never asks for.
      if (h.status === 101) throw new ResponseParseError('101 Switching Protocols to a request that asked for no upgrade');
      if (++this.#informational > MAX_INFORMATIONAL) throw new ResponseParseError(`more than ${MAX_INFORMATIONAL} 1xx responses`);
      this.events.informational(h.status, h.headers);
      return;
    }
    collapseLength(h.headers);
    const framing = this.bodiless || h.status === 204 || h.status === 304 ? 'none' : framingOf(h.headers);
    this.#keepAlive = h.version === 1 && framing !== 'close' && !hasToken(h.headers.connection, 'close');
    this.events.head(h.status, h.headers, h.statusText);
    if (framing === 'none' || framing === 0) this.#finish();
    else if (framing === 'chunked') this.#state = State.ChunkSize;
    else if (framing === 'close') this.#state = State.UntilClose;
    else {
      this.#remaining = framing;
      this.#state = State.Length;
    }
  }

  #onChunkSize(text: string): void {
    const m = CHUNK_SIZE.exec(text);
    if (!m) throw new ResponseParseError(`bad chunk size line ${JSON.stringify(text.slice(0, 64))}`);
    const size = Number.parseInt(m[1]!, 16);
    if (size === 0) {
      this.#state = State.Trailers;
      return;
    }
    this.#remaining = size;
    this.#state = State.ChunkData;
  }

  #finish(): void {
    this.#state = State.Done;
    this.events.complete(this.#keepAlive);
  }
}
