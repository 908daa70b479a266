import { parseDuration, type FerryRequest, type ResponseWriter } from '@ferry/core';
import { formatComment, formatEvent, type SseEvent } from './format.js';

/** What a stream does with a client that reads slower than events arrive, once its queue is full. */
export type SlowClientPolicy = 'drop-oldest' | 'disconnect';

export interface EventStreamOptions {
  /** A comment every so often keeps proxies and idle timers from closing a quiet stream. Default 15s; 0 turns it off. */
  heartbeat?: number | string;
  /** Events held for a client that is not keeping up. Default 1000. */
  maxQueuedEvents?: number;
  /** Bytes held for a client that is not keeping up. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Once the queue is full: drop the oldest queued event (default), or close the stream. */
  slowClient?: SlowClientPolicy;
  /** A `retry:` hint sent first, in milliseconds. */
  retry?: number;
  /** Closes the stream when it aborts (e.g. the server stopping). */
  signal?: AbortSignal;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Told about every event dropped by the slow-client policy. */
  onDrop?: (ev: string) => void;
}

/** Why a stream ended. */
export type CloseReason = 'client-gone' | 'closed' | 'slow-client' | 'stopping' | 'error';

/** What each `signal` option runs on abort: one listener per signal, however many streams use it. */
const onAbortBySignal = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Runs `fn` when `signal` aborts, until the returned function is called. Every stream passes the
 * server's `stopping` signal: a listener each would make Node warn of a leak past ten streams.
 */
function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let fns = onAbortBySignal.get(signal);
  if (!fns) {
    const all = (fns = new Set());
    onAbortBySignal.set(signal, all);
    const runAll = () => {
      for (const f of [...all]) f();
    };
    signal.addEventListener('abort', runAll, { once: true });
  }
  fns.add(fn);
  const registered = fns;
  return () => registered.delete(fn);
}

/** Ends a stream because its handler failed (module-private: streamEvents uses it). */
let failStream: (stream: EventStream) => void;

/** Events held for a slow client before its policy applies, when the options do not say (the `sse` handler's `max_queued_events`). */
export const DEFAULT_MAX_QUEUED_EVENTS = 1000;
/** Bytes held for a slow client before its policy applies (1 MiB; `max_queued_bytes`). */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * An open event stream. Headers went out (and were flushed) when it was made; `signal` aborts and
 * `closed` settles within a second of the client leaving, whether or not anything is being sent.
 */
export class EventStream {
  readonly lastEventId: string | undefined;
  readonly #res: ResponseWriter;
  readonly #ac = new AbortController();
  readonly #closed: Promise<CloseReason>;
  #resolveClosed!: (r: CloseReason) => void;
  readonly #queue: string[] = [];
  #queuedBytes = 0;
  #waiting = false;
  #dropped = 0;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #policy: SlowClientPolicy;
  readonly #onDrop: ((ev: string) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #cleanups: (() => void)[] = [];
  readonly #drainWaiters: (() => void)[] = [];

  static {
    failStream = (stream) => stream.#end('error');
  }

  constructor(req: FerryRequest, res: ResponseWriter, options: EventStreamOptions = {}) {
    this.#res = res;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#maxEvents = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    this.#maxBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#policy = options.slowClient ?? 'drop-oldest';
    this.#onDrop = options.onDrop;
    const header = req.headers['last-event-id'];
    // EventSource polyfills that cannot set headers send it in the query. An empty value means
    // "no event seen yet" (an EventSource sends no Last-Event-ID then), not an id to replay from.
    this.lastEventId = (typeof header === 'string' && header !== '' ? header : undefined) ?? (req.query.get('lastEventId') || undefined);

    const gone = () => this.#end('client-gone');
    // A handler may make the stream after an await, when the client has already left: an
    // already-aborted signal never fires 'abort', so that case must be caught here.
    if (req.signal.aborted) queueMicrotask(gone);
    else {
      req.signal.addEventListener('abort', gone, { once: true });
      this.#cleanups.push(() => req.signal.removeEventListener('abort', gone));
    }
    if (options.signal) {
      const stop = () => this.#end('stopping');
      if (options.signal.aborted) queueMicrotask(stop);
      else this.#cleanups.push(onAbort(options.signal, stop));
    }

    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no');
    for (const [k, v] of Object.entries(options.headers ?? {})) res.setHeader(k, v);
    res.removeHeader('content-length');
    // Headers go out now, not with the first event: the client is waiting for them.
    res.flush();
    if (options.retry !== undefined) this.#write(formatEvent({ retry: options.retry }));

    const every =
      options.heartbeat === undefined
        ? 15_000
        : typeof options.heartbeat === 'number'
          ? options.heartbeat
          : parseDuration(options.heartbeat);
    if (every > 0) {
      // Only an idle connection needs a heartbeat: one queued behind a slow client would just
      // take the place of an event (drop-oldest) or count toward a disconnect.
      this.#timer = setInterval(() => {
        if (!this.#waiting && this.#queue.length === 0) this.comment();
      }, every);
      this.#timer.unref();
    }
  }

  /** Aborts when the stream ends, for any reason. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** Settles with the reason once the stream has ended. */
  get closed(): Promise<CloseReason> {
    return this.#closed;
  }

  get isClosed(): boolean {
    return this.#ac.signal.aborted;
  }

  /** Events waiting for a slow client. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Events dropped by the slow-client policy so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Sends an event. True when the connection took it without pushing back; false when the
   * client is behind (the event is buffered or queued, within the stream's bounds), or the stream
   * is closed. `drained()` waits until the client has caught up.
   */
  send(ev: SseEvent): boolean {
    return this.#write(formatEvent(ev));
  }

  /** Sends a comment line. */
  comment(text?: string): boolean {
    return this.#write(formatComment(text));
  }

  /** Resolves once nothing is queued (at once if nothing is). */
  drained(): Promise<void> {
    // A closed stream has nothing left to drain (it may have closed while waiting for 'drain').
    if (this.isClosed || (!this.#waiting && this.#queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Runs `fn` when the stream ends (unsubscribe, release timers). Runs at once if it already has. */
  onClose(fn: () => void): void {
    if (this.isClosed) fn();
    else this.#cleanups.push(fn);
  }

  /** Ends the stream cleanly. */
  close(): void {
    this.#end('closed');
  }

  /** Sends a pre-formatted event (channels format once for all their subscribers). */
  writeRaw(text: string): boolean {
    return this.#write(text);
  }

  #write(text: string): boolean {
    if (this.isClosed) return false;
    if (this.#waiting || this.#queue.length > 0) {
      this.#enqueue(text);
      return false;
    }
    if (this.#res.write(text)) return true;
    // Accepted, but the connection's buffer is full: report backpressure; later events queue.
    this.#waitForDrain();
    return false;
  }

  #enqueue(text: string): void {
    this.#queue.push(text);
    this.#queuedBytes += text.length;
    while (this.#queue.length > this.#maxEvents || this.#queuedBytes > this.#maxBytes) {
      if (this.#policy === 'disconnect') {
        this.#end('slow-client');
        return;
      }
      const dropped = this.#queue.shift()!;
      this.#queuedBytes -= dropped.length;
      this.#dropped++;
      this.#onDrop?.(dropped);
    }
  }

  #waitForDrain(): void {
    this.#waiting = true;
    this.#res.once('drain', () => {
      this.#waiting = false;
      while (this.#queue.length > 0 && !this.isClosed) {
        const next = this.#queue.shift()!;
        this.#queuedBytes -= next.length;
        if (!this.#res.write(next)) {
          this.#waitForDrain();
          return;
        }
      }
      for (const w of this.#drainWaiters.splice(0)) w();
    });
  }

  #end(reason: CloseReason): void {
    if (this.isClosed) return;
    clearInterval(this.#timer);
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#ac.abort(reason);
    for (const fn of this.#cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // a cleanup failing must not keep the others from running
      }
    }
    for (const w of this.#drainWaiters.splice(0)) w();
    // Cut, not ended: a client must not mistake a dropped or failed stream for a finished one.
    if (reason === 'slow-client' || reason === 'error') this.#res.destroy();
    else if (!this.#res.writableEnded && !this.#res.destroyed) this.#res.end();
    this.#resolveClosed(reason);
  }
}

/** Turns the request into an event stream: status and headers are sent and flushed at once. */
export function eventStream(req: FerryRequest, res: ResponseWriter, options?: EventStreamOptions): EventStream {
  return new EventStream(req, res, options);
}

/**
 * A handler that serves an event stream: `fn` gets the open stream and may return at once;
 * the handler resolves when the stream ends.
 */
export function streamEvents(
  fn: (stream: EventStream, req: FerryRequest) => void | Promise<void>,
  options?: EventStreamOptions,
): (req: FerryRequest, res: ResponseWriter) => Promise<void> {
  return async (req, res) => {
    const stream = new EventStream(req, res, options);
    try {
      await fn(stream, req);
    } catch (err) {
      // Not close(): a clean end would hide the failure from the client (and from core, which
      // aborts a response whose handler threw after the headers went out).
      failStream(stream);
      throw err;
    }
    await stream.closed;
  };
}
