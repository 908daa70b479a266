import type { HeaderRecord } from '../hop.js';
import { type Head, parseHead, ResponseParseError } from './h1-head.js';

export { ResponseParseError };

/**
 * An HTTP/1.x response read from an upstream connection, byte by byte as it arrives (RFC 9112):
 * the status line and fields, any 1xx before the final head, then the body framed by
 * Content-Length, chunked coding or the connection's close. Strict where leniency lets a
 * response be read two ways (response splitting, smuggling through a reused connection):
 * bare CR or LF, obs-fold, space before the colon, invalid field bytes, conflicting or
 * non-numeric Content-Length, Transfer-Encoding other than `chunked`, or both framings at once
 * are errors, and the connection is never reused after one.
 */

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

const DIGITS = /^[0-9]{1,15}$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;

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
