import { parseDuration, type FerryRequest, type ResponseWriter } from '@ferry/core';
import { formatComment, formatEvent, type SseEvent } from './format.js';
import { heartbeats, type Heartbeat } from './heartbeat.js';
import { directSocket, type SharedEvent } from './shared_event.js';

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

/**
 * The open streams given each `signal` option (the server's `stopping`), ended when it aborts:
 * one listener per signal, however many streams use it (a listener each would make Node warn of
 * a leak past ten streams), and no closure per stream.
 */
const streamsBySignal = new WeakMap<AbortSignal, Set<EventStream>>();

/** The streams `signal` ends when it aborts (listening to it from the first). */
function streamsEndedBy(signal: AbortSignal): Set<EventStream> {
  let streams = streamsBySignal.get(signal);
  if (!streams) {
    const all = (streams = new Set());
    streamsBySignal.set(signal, all);
    signal.addEventListener('abort', () => stopAll(all), { once: true });
  }
  return streams;
}

/** Ends every stream of `streams` with "stopping" (module-private: EventStream gives it). */
let stopAll: (streams: Set<EventStream>) => void;

/**
 * Writes an event formatted once for many streams (a channel's delivery): as `writeRaw(event.text)`,
 * through the shared chunk where the response allows (shared_event.ts).
 */
export let writeShared: (stream: EventStream, event: SharedEvent) => boolean;

/** Sends a stream its heartbeat (module-private: EventStream gives it). */
let beat: (stream: EventStream) => void;

/** The shared heartbeat timer of each interval. */
const heartbeatEvery = heartbeats<EventStream>((stream) => beat(stream));

/** Ends a stream because its handler failed (module-private: streamEvents uses it). */
let failStream: (stream: EventStream) => void;

/** Events held for a slow client before its policy applies, when the options do not say (the `sse` handler's `max_queued_events`). */
export const DEFAULT_MAX_QUEUED_EVENTS = 1000;
/** Bytes held for a slow client before its policy applies (1 MiB; `max_queued_bytes`). */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * An open event stream. Headers went out (and were flushed) when it was made; `signal` aborts and
 * `closed` settles within a second of the client leaving, whether or not anything is being sent.
 *
 * A hub holds thousands of these, so a stream allocates little until asked: its AbortController,
 * its `closed` promise and its queue are made on first use, one timer per heartbeat interval
 * serves every stream, and one listener on the server's `stopping` signal ends them all.
 */
export class EventStream {
  readonly lastEventId: string | undefined;
  readonly #res: ResponseWriter;
  /** Why the stream ended; undefined while it is open. */
  #reason: CloseReason | undefined;
  /** Made when `signal` is first read. */
  #ac: AbortController | undefined;
  /** Made when `closed` is first read. */
  #closed: Promise<CloseReason> | undefined;
  #resolveClosed: ((r: CloseReason) => void) | undefined;
  /** Events waiting for a slow client; made when the first one waits. */
  #queue: string[] | undefined;
  #queuedBytes = 0;
  #waiting = false;
  #dropped = 0;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #policy: SlowClientPolicy;
  readonly #onDrop: ((ev: string) => void) | undefined;
  #heartbeat: Heartbeat<EventStream> | undefined;
  /** The streams of the `signal` option, this one among them while open. */
  #stopping: Set<EventStream> | undefined;
  #cleanups: (() => void)[] | undefined;
  #drainWaiters: (() => void)[] | undefined;

  static {
    failStream = (stream) => stream.#end('error');
    writeShared = (stream, event) => stream.#write(event.text, event);
    stopAll = (streams) => {
      for (const stream of [...streams]) stream.#end('stopping');
    };
    // Only an idle connection needs a heartbeat: one queued behind a slow client would just
    // take the place of an event (drop-oldest) or count toward a disconnect.
    beat = (stream) => {
      if (!stream.#waiting && !stream.#queue?.length) stream.comment();
    };
  }

  constructor(req: FerryRequest, res: ResponseWriter, options: EventStreamOptions = {}) {
    this.#res = res;
    this.#maxEvents = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    this.#maxBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#policy = options.slowClient ?? 'drop-oldest';
    this.#onDrop = options.onDrop;
    const header = req.headers['last-event-id'];
    // EventSource polyfills that cannot set headers send it in the query. An empty value means
    // "no event seen yet" (an EventSource sends no Last-Event-ID then), not an id to replay from.
    // (No query, no URLSearchParams made.)
    this.lastEventId =
      (typeof header === 'string' && header !== '' ? header : undefined) ?? ((req.rawQuery && req.query.get('lastEventId')) || undefined);

    // The client leaving is the response closing before it finished, as `req.signal` sees it; read
    // here, not through `req.signal`, which would cost every stream an AbortController of its own.
    // A handler may make the stream after an await, when the client has already left: the
    // response then never emits 'close' again, so that case must be caught here.
    if (res.destroyed && !res.writableFinished) queueMicrotask(() => this.#end('client-gone'));
    else
      res.on('close', () => {
        if (!res.writableFinished) this.#end('client-gone');
      });
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => this.#end('stopping'));
      else (this.#stopping = streamsEndedBy(options.signal)).add(this);
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
    if (every > 0 && !this.isClosed) (this.#heartbeat = heartbeatEvery(every)).add(this);
  }

  /** Aborts when the stream ends, for any reason (with the CloseReason as its reason). */
  get signal(): AbortSignal {
    if (!this.#ac) {
      this.#ac = new AbortController();
      if (this.#reason !== undefined) this.#ac.abort(this.#reason);
    }
    return this.#ac.signal;
  }

  /** Settles with the reason once the stream has ended. */
  get closed(): Promise<CloseReason> {
    if (!this.#closed) {
      if (this.#reason !== undefined) this.#closed = Promise.resolve(this.#reason);
      else this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    }
    return this.#closed;
  }

  get isClosed(): boolean {
    return this.#reason !== undefined;
  }

  /** Events waiting for a slow client. */
  get queued(): number {
    return this.#queue?.length ?? 0;
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
    if (this.isClosed || (!this.#waiting && !this.#queue?.length)) return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  /** Runs `fn` when the stream ends (unsubscribe, release timers). Runs at once if it already has. */
  onClose(fn: () => void): void {
    if (this.isClosed) fn();
    else (this.#cleanups ??= []).push(fn);
  }

  /** Ends the stream cleanly. */
  close(): void {
    this.#end('closed');
  }

  /** Sends a pre-formatted event (channels format once for all their subscribers). */
  writeRaw(text: string): boolean {
    return this.#write(text);
  }

  #write(text: string, shared?: SharedEvent): boolean {
    if (this.#reason !== undefined) return false;
    if (this.#waiting || this.#queue?.length) {
      this.#enqueue(text);
      return false;
    }
    const socket = shared && directSocket(this.#res);
    if (socket) {
      if (socket.write(shared.chunk)) return true;
      // The response emits 'drain' only after a write of its own pushed back: wait for the socket's.
      this.#waitForDrain(socket);
      return false;
    }
    if (this.#res.write(text)) return true;
    // Accepted, but the connection's buffer is full: report backpressure; later events queue.
    this.#waitForDrain(this.#res);
    return false;
  }

  #enqueue(text: string): void {
    const queue = (this.#queue ??= []);
    queue.push(text);
    this.#queuedBytes += text.length;
    while (queue.length > this.#maxEvents || this.#queuedBytes > this.#maxBytes) {
      if (this.#policy === 'disconnect') {
        this.#end('slow-client');
        return;
      }
      const dropped = queue.shift()!;
      this.#queuedBytes -= dropped.length;
      this.#dropped++;
      this.#onDrop?.(dropped);
    }
  }

  #waitForDrain(from: { once(event: 'drain', fn: () => void): unknown }): void {
    this.#waiting = true;
    from.once('drain', () => {
      this.#waiting = false;
      const queue = this.#queue;
      while (queue && queue.length > 0 && !this.isClosed) {
        const next = queue.shift()!;
        this.#queuedBytes -= next.length;
        if (!this.#res.write(next)) {
          this.#waitForDrain(this.#res);
          return;
        }
      }
      if (this.#drainWaiters) for (const w of this.#drainWaiters.splice(0)) w();
    });
  }

  #end(reason: CloseReason): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#heartbeat?.delete(this);
    this.#stopping?.delete(this);
    this.#queue = undefined;
    this.#queuedBytes = 0;
    this.#ac?.abort(reason);
    if (this.#cleanups) {
      for (const fn of this.#cleanups.splice(0)) {
        try {
          fn();
        } catch {
          // a cleanup failing must not keep the others from running
        }
      }
    }
    if (this.#drainWaiters) for (const w of this.#drainWaiters.splice(0)) w();
    // Cut, not ended: a client must not mistake a dropped or failed stream for a finished one.
    if (reason === 'slow-client' || reason === 'error') this.#res.destroy();
    else if (!this.#res.writableEnded && !this.#res.destroyed) this.#res.end();
    this.#resolveClosed?.(reason);
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
