import { OutgoingMessage } from 'node:http';
import type { ResponseWriter } from '@ferry/core';
import { setParsedField } from '@ferry/core/internal';
import { endToEnd, type HeaderRecord, isHopByHop, onlyHopByHop, viaAfter } from './hop.js';
import type { ResponseSink } from './transport.js';
import { MAX_QUEUED } from './transport/read_buffers.js';

const EVENT_STREAM = 'text/event-stream';

function isEventStream(headers: HeaderRecord): boolean {
  const t = headers['content-type'];
  if (typeof t !== 'string' || t.length < EVENT_STREAM.length) return false;
  // Lower-cased only when it may be one: a T first and an E sixth (text/plain and text/html are not).
  if ((t.charCodeAt(0) | 0x20) !== 0x74 || (t.charCodeAt(5) | 0x20) !== 0x65) return false;
  return t.slice(0, EVENT_STREAM.length).toLowerCase() === EVENT_STREAM;
}

/**
 * Whether `res` holds back little enough that the upstream's next read may come in (MAX_QUEUED).
 * Node's own response counts every byte it has not handed to the kernel (`writableLength`: its
 * own and its socket's); a wrapper's count may not cover what lies beneath it, so only Node's own
 * is trusted.
 */
function littleQueued(res: ResponseWriter): boolean {
  return res instanceof OutgoingMessage && res.writableLength <= MAX_QUEUED;
}

/** Resolved: `then` on it queues a microtask. */
const SETTLED = Promise.resolve();

/** How long a head whose body has not started may wait before it goes out alone (no flush_interval set). */
const HEAD_ALONE_AFTER = 100;

/**
 * An upstream's ordinary (not upgraded) response on its way to the client (Caddy's
 * `streaming.go`): 1xx passed on, the head (`head` turns the upstream's end-to-end fields into
 * the client's), the body with backpressure, and when buffered bytes are flushed
 * (`flush_interval`: -1 after every write, 0 not periodically, else at most this many ms late).
 *
 * One object per proxied response (the hot path): a body that arrives whole with its head (the
 * common small answer) goes out in one `end(chunk)`, and no timer is set for it.
 */
export class ClientResponse implements ResponseSink {
  #streaming = false;
  #headTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  /** The whole body, held from `data` to `end` when it came in one chunk with the head. */
  #whole: Buffer | undefined;
  /** Gives back the read buffer `#whole` was lent from, once written. */
  #wholeRelease: (() => void) | undefined;
  /** The writer calls back only once done with a chunk (ResponseWriter.lendable): lent chunks need no copy. */
  readonly #lendable: boolean;
  #expected = -1;
  #bodyStarted = false;
  #ended = false;
  /** The response is corked until the poll phase's reads are written (set in `data`). */
  #corked = false;

  constructor(
    readonly res: ResponseWriter,
    readonly flushInterval: number,
    readonly headOf: (status: number, headers: HeaderRecord) => HeaderRecord,
    /** Whether headOf leaves checked fields checked: it adds Via and changes nothing else. */
    readonly keepsChecked = false,
    /** What headOf does besides adding Via, for heads passed on without it (keepsChecked). */
    readonly judge?: (status: number) => void,
  ) {
    this.#lendable = res.lendable === true;
  }

  /** Clears the flush timers; safe to call more than once. */
  stop(): void {
    if (this.#headTimer) this.#headTimer = void clearTimeout(this.#headTimer);
    if (this.#flushTimer) this.#flushTimer = void clearTimeout(this.#flushTimer);
  }

  informational(status: number, headers: HeaderRecord): void {
    if (status !== 101) this.res.writeInformational(status, endToEnd(headers) as Record<string, string>);
  }

  head(status: number, headers: HeaderRecord, _statusText?: string, checked = false): void {
    // Fields the parser checked (and Via, which holds theirs and Ferry's) need no second check.
    const parsed = checked && this.keepsChecked;
    // The parser's record itself when dropping hop-by-hop names is all a copy would do (the common
    // answer): read, never changed (the parser may hand the same record to the next answer), so
    // Via is written beside it rather than added to it.
    if (parsed && onlyHopByHop(headers)) {
      this.judge?.(status);
      this.#passOn(headers);
      this.#started(status, headers);
      return;
    }
    const h = this.headOf(status, endToEnd(headers, undefined, checked));
    // for…in and an own-property test, as hop.ts copy() walks a record.
    for (const k in h) {
      // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is not folded into the for…in loop
      if (!Object.prototype.hasOwnProperty.call(h, k)) continue;
      const v = h[k];
      if (v === undefined) continue;
      // Set-Cookie is appended: the cookie selection policy's `lb` cookie is already there.
      if (k === 'set-cookie') this.res.appendHeader(k, v as string | string[]);
      else if (parsed) setParsedField(this.res, k, v as string | string[]);
      else this.res.setHeader(k, v as string | string[]);
    }
    this.#started(status, h);
  }

  /** The parser's end-to-end fields as they are, Via with Ferry's hop added (addVia, without changing the record). */
  #passOn(headers: HeaderRecord): void {
    const res = this.res;
    let via = false;
    for (const k in headers) {
      // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is not folded into the for…in loop
      if (!Object.prototype.hasOwnProperty.call(headers, k)) continue;
      const v = headers[k];
      if (v === undefined || isHopByHop(k)) continue;
      if (k === 'set-cookie') res.appendHeader(k, v as string | string[]);
      else if (k === 'via') {
        via = true;
        setParsedField(res, k, viaAfter(v, '1.1'));
      } else setParsedField(res, k, v as string | string[]);
    }
    if (!via) setParsedField(res, 'via', viaAfter(undefined, '1.1'));
  }

  /** The status, then the head out now (streaming) or with the body's first bytes. */
  #started(status: number, h: HeaderRecord): void {
    const res = this.res;
    const length = h['content-length'];
    this.#streaming = this.flushInterval === -1 || isEventStream(h) || length === undefined;
    res.statusCode = status;
    if (this.#streaming) {
      res.flush();
      return;
    }
    this.#expected = typeof length === 'string' ? Number(length) : -1;
    // Headers go out even when the body is slow to start. A body that comes with the head is
    // delivered before this microtask runs: then no timer is set at all. A promise reaction, not
    // queueMicrotask: that makes an AsyncResource and a bound function each time.
    SETTLED.then(this.#armHeadTimer);
  }

  #uncork = (): void => {
    this.#corked = false;
    // `data` corks only a response of Node's own (an OutgoingMessage).
    if (!this.#ended) (this.res as unknown as OutgoingMessage).uncork();
  };

  #armHeadTimer = (): void => {
    if (this.#bodyStarted || this.#ended) return;
    this.#headTimer = setTimeout(() => this.res.flush(), this.flushInterval > 0 ? this.flushInterval : HEAD_ALONE_AFTER);
  };

  data(lent: Buffer, resume: () => void, hold?: () => () => void): boolean {
    const res = this.res;
    let chunk = lent;
    // A lent chunk (ResponseSink.data) is held until a lendable writer calls back; another writer
    // may keep a chunk past its callback, so it gets a copy.
    let release: (() => void) | undefined;
    if (hold) {
      if (this.#lendable) release = hold();
      else chunk = Buffer.from(lent);
    }
    if (!this.#bodyStarted) {
      this.#bodyStarted = true;
      if (this.#headTimer) this.#headTimer = void clearTimeout(this.#headTimer);
      // All of it at once: held for end(), so head and body leave in one write.
      if (!this.#streaming && chunk.length === this.#expected) {
        this.#whole = chunk;
        this.#wholeRelease = release;
        return true;
      }
    } else if (this.#whole) {
      // More than Content-Length said (cannot happen: the transport reads no further than Content-Length): pass it on.
      res.write(this.#whole, this.#wholeRelease);
      this.#whole = this.#wholeRelease = undefined;
    }
    if (!this.#streaming && !this.#corked && res instanceof OutgoingMessage) {
      // What the upstream's reads of this poll phase bring leaves in one write: a 64 KiB answer is
      // two reads (its head and first bytes, then the rest), and Node's own cork of a response
      // lasts only to the next tick, which runs between them. end() uncorks fully at once.
      this.#corked = true;
      res.cork();
      setImmediate(this.#uncork);
    }
    const ok = res.write(chunk, release);
    if (this.#streaming) res.flush();
    // A positive flush_interval bounds how long written bytes may wait in a wrapper (encode's
    // compressor) before they go out, as Go's maxLatencyWriter does.
    else if (this.flushInterval > 0 && !this.#flushTimer) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        res.flush();
      }, this.flushInterval);
    }
    if (ok || littleQueued(res)) return true;
    res.once('drain', resume);
    return false;
  }

  end(): void {
    this.#ended = true;
    this.stop();
    const whole = this.#whole;
    const release = this.#wholeRelease;
    this.#whole = this.#wholeRelease = undefined;
    if (whole) this.res.end(whole, release);
    else this.res.end();
  }
}
