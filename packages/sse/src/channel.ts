import { formatEvent, type SseEvent } from './format.js';
import type { EventStream } from './stream.js';

/** An event as a channel keeps it: its id is always set. */
export interface ChannelEvent extends SseEvent {
  id: string;
}

export interface SubscribeOptions {
  /** Only events this returns true for reach the stream (replayed ones included). */
  filter?: (ev: ChannelEvent) => boolean;
  /** Replay what was published after this id (usually `stream.lastEventId`). */
  lastEventId?: string;
}

/** What a channel reports, for metrics. */
export interface ChannelHooks {
  published?(ev: ChannelEvent): void;
  delivered?(count: number): void;
  dropped?(count: number): void;
  subscribers?(count: number): void;
}

/** The event a reconnecting client gets when its Last-Event-ID is older than the history reaches. */
export const HISTORY_GAP_EVENT = 'ferry.history-gap';

interface Subscriber {
  stream: EventStream;
  filter: ((ev: ChannelEvent) => boolean) | undefined;
}

/**
 * Broadcasts events to many streams, each with an optional filter, and keeps a bounded history so
 * a client reconnecting with `Last-Event-ID` gets what it missed.
 */
export class Channel {
  readonly #subs = new Set<Subscriber>();
  readonly #history: ChannelEvent[] = [];
  #historySize: number;
  #seq = 0;
  readonly #hooks: ChannelHooks;

  constructor(options: { history?: number; hooks?: ChannelHooks } = {}) {
    this.#historySize = Math.max(0, options.history ?? 100);
    this.#hooks = options.hooks ?? {};
  }

  /** Subscribed streams right now. */
  get size(): number {
    return this.#subs.size;
  }

  get historySize(): number {
    return this.#historySize;
  }

  /** Keeps at least `n` events (channels shared by several handlers keep the largest history asked for). */
  ensureHistory(n: number): void {
    this.#historySize = Math.max(this.#historySize, n);
  }

  /** The events kept for replay, oldest first. */
  history(): readonly ChannelEvent[] {
    return this.#history;
  }

  /** Publishes to every subscriber; an id is assigned when the event has none. Returns the event as kept. */
  publish(input: SseEvent): ChannelEvent {
    const ev: ChannelEvent = { ...input, id: input.id ?? String(++this.#seq) };
    if (this.#historySize > 0) {
      this.#history.push(ev);
      if (this.#history.length > this.#historySize) this.#history.splice(0, this.#history.length - this.#historySize);
    }
    this.#hooks.published?.(ev);
    const text = formatEvent(ev);
    let delivered = 0;
    let dropped = 0;
    for (const sub of this.#subs) {
      if (sub.filter && !sub.filter(ev)) continue;
      const before = sub.stream.dropped;
      sub.stream.writeRaw(text);
      if (sub.stream.dropped > before) dropped += sub.stream.dropped - before;
      // Handed over (written or queued), unless the write closed the stream (slow-client disconnect).
      if (!sub.stream.isClosed) delivered++;
    }
    // Kept apart: one large event can push several queued ones out, so "delivered - dropped"
    // could go negative, and a prom-client counter throws when decremented.
    if (delivered) this.#hooks.delivered?.(delivered);
    if (dropped) this.#hooks.dropped?.(dropped);
    return ev;
  }

  /**
   * Adds a stream: first it gets what it missed since `lastEventId` (or, when the history no
   * longer reaches back that far, a `ferry.history-gap` event and then all that is kept), then
   * every new event. The subscription ends with the stream; the returned function ends it sooner.
   */
  subscribe(stream: EventStream, options: SubscribeOptions = {}): () => void {
    const sub: Subscriber = { stream, filter: options.filter };
    if (options.lastEventId !== undefined) this.#replay(sub, options.lastEventId);
    this.#subs.add(sub);
    this.#hooks.subscribers?.(this.#subs.size);
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      this.#subs.delete(sub);
      this.#hooks.subscribers?.(this.#subs.size);
    };
    stream.onClose(unsubscribe);
    return unsubscribe;
  }

  #replay(sub: Subscriber, lastEventId: string): void {
    const h = this.#history;
    let from = -1;
    for (let i = h.length - 1; i >= 0; i--) {
      if (h[i]!.id === lastEventId) {
        from = i + 1;
        break;
      }
    }
    if (from === -1) {
      // Not in the history: the client missed events we no longer have. Say so, then give what we have.
      sub.stream.send({ event: HISTORY_GAP_EVENT, data: { lastEventId, oldestId: h[0]?.id ?? null } });
      from = 0;
    }
    for (let i = from; i < h.length; i++) {
      const ev = h[i]!;
      if (!sub.filter || sub.filter(ev)) sub.stream.writeRaw(formatEvent(ev));
    }
  }

  /** Closes every subscribed stream. */
  closeAll(): void {
    for (const sub of [...this.#subs]) sub.stream.close();
  }
}
