import { BrokerUnavailableError, type Broker, type Following } from './broker.js';
import { formatEvent, type SseEvent } from './format.js';
import { DEFAULT_HISTORY, DEFAULT_HISTORY_BYTES, History } from './history.js';
import { SharedEvent } from './shared_event.js';
import { type EventStream, writeShared } from './stream.js';

/** An event as a channel keeps it: its id is always set. */
export interface ChannelEvent extends SseEvent {
  id: string;
}

/** What `publish` resolves with: the event as kept, and whether it was stored for every instance and for replay. */
export interface PublishedEvent extends ChannelEvent {
  /**
   * In process: always true (it is in the channel's history). With a broker: false when the broker
   * was away, so the event reached only this instance's subscribers and cannot be replayed.
   */
  stored: boolean;
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
  /** An event the broker could not take, delivered to this instance's subscribers only. */
  localOnly?(ev: ChannelEvent): void;
  delivered?(count: number): void;
  dropped?(count: number): void;
  subscribers?(count: number): void;
  /** The bytes the history keeps changed (an event kept, or old ones dropped); `keptBytes` has the new total. */
  history?(keptBytes: number): void;
}

/** The event a reconnecting client gets when its Last-Event-ID is older than the history reaches. */
export const HISTORY_GAP_EVENT = 'ferry.history-gap';

interface Subscriber {
  stream: EventStream;
  filter: ((ev: ChannelEvent) => boolean) | undefined;
  /** Live events held while the subscriber's replay is read from the broker. */
  pending: ChannelEvent[] | undefined;
}

export interface ChannelOptions {
  /** Events kept for replay (DEFAULT_HISTORY). */
  history?: number;
  /** Bytes of events, as sent, kept for replay (DEFAULT_HISTORY_BYTES): the oldest go first. */
  historyBytes?: number;
  hooks?: ChannelHooks;
  /** Shares the channel between instances: `broker` stores its events (and their history) as `topic`. */
  broker?: { broker: Broker; topic: string };
}

/**
 * Broadcasts events to many streams, each with an optional filter, and keeps a bounded history so
 * a client reconnecting with `Last-Event-ID` gets what it missed. With a broker, the history and
 * the ids are the broker's and every instance's subscribers get every instance's events.
 */
export class Channel {
  readonly #subs = new Set<Subscriber>();
  readonly #history = new History();
  #historySize: number;
  #historyBytes: number;
  #seq = 0;
  readonly #hooks: ChannelHooks;
  readonly #broker: Broker | undefined;
  readonly #topic: string;
  #following: Following | undefined;

  constructor(options: ChannelOptions = {}) {
    this.#historySize = Math.max(0, options.history ?? DEFAULT_HISTORY);
    this.#historyBytes = Math.max(0, options.historyBytes ?? DEFAULT_HISTORY_BYTES);
    this.#hooks = options.hooks ?? {};
    this.#broker = options.broker?.broker;
    this.#topic = options.broker?.topic ?? '';
  }

  /** Subscribed streams right now. */
  get size(): number {
    return this.#subs.size;
  }

  /** Events kept at most. */
  get historySize(): number {
    return this.#historySize;
  }

  /** Bytes of events kept at most. */
  get historyBytes(): number {
    return this.#historyBytes;
  }

  /** Bytes of the events kept now, as sent. */
  get keptBytes(): number {
    return this.#history.bytes;
  }

  /**
   * Keeps at least `n` events and `bytes` bytes of them (channels shared by several handlers keep
   * the largest history asked for).
   */
  ensureHistory(n: number, bytes = 0): void {
    this.#historySize = Math.max(this.#historySize, n);
    this.#historyBytes = Math.max(this.#historyBytes, bytes);
  }

  /** Drops the oldest kept events until at most `bytes` bytes are kept (a hub bounding all its topics). */
  trimHistory(bytes: number): void {
    if (this.#history.trim(this.#historySize, bytes)) this.#hooks.history?.(this.#history.bytes);
  }

  /** The events kept for replay, oldest first. */
  history(): readonly ChannelEvent[] {
    return this.#history.events;
  }

  /**
   * Publishes to every subscriber; an id is assigned when the event has none. Resolves with the
   * event as kept. In process, subscribers have it when this returns (before the promise settles).
   * With a broker, the broker gives the id (an `id` of your own is an error) and subscribers on
   * every instance get the event once the broker has stored it; when the broker is away, this
   * instance's subscribers get it at once and `stored` is false.
   */
  publish(input: SseEvent): Promise<PublishedEvent> {
    if (this.#broker) return this.#publishShared(this.#broker, input);
    const ev: ChannelEvent = { ...input, id: input.id ?? String(++this.#seq) };
    const text = formatEvent(ev);
    if (this.#historySize > 0) {
      this.#history.add(ev, Buffer.byteLength(text), this.#historySize, this.#historyBytes);
      this.#hooks.history?.(this.#history.bytes);
    }
    this.#hooks.published?.(ev);
    this.#deliver(ev, text);
    return Promise.resolve({ ...ev, stored: true });
  }

  async #publishShared(broker: Broker, input: SseEvent): Promise<PublishedEvent> {
    if (input.id !== undefined && !broker.keepsIds)
      throw new TypeError(`event ids are given by the ${broker.kind} broker; publish without "id"`);
    formatEvent(input); // a malformed event is refused here, not by every instance that receives it
    try {
      const id = await broker.publish(this.#topic, input, this.#historySize, this.#historyBytes);
      const ev = { ...input, id };
      this.#hooks.published?.(ev);
      return { ...ev, stored: true };
    } catch (err) {
      if (!(err instanceof BrokerUnavailableError)) throw err;
      // Kept apart from the broker's ids (`<ms>-L<n>`), so a replay knows it was never stored.
      const ev: ChannelEvent = { ...input, id: `${Date.now()}-L${++this.#seq}` };
      this.#hooks.published?.(ev);
      this.#hooks.localOnly?.(ev);
      this.#deliver(ev);
      return { ...ev, stored: false };
    }
  }

  /** Hands an event to every subscriber (held for those still replaying). */
  #deliver(ev: ChannelEvent, text = formatEvent(ev)): void {
    let delivered = 0;
    let dropped = 0;
    // Formatted once, and put in a chunk once, for every subscriber.
    const shared = new SharedEvent(text);
    for (const sub of this.#subs) {
      if (sub.filter && !sub.filter(ev)) continue;
      if (sub.pending) {
        sub.pending.push(ev);
        continue;
      }
      const before = sub.stream.dropped;
      writeShared(sub.stream, shared);
      if (sub.stream.dropped > before) dropped += sub.stream.dropped - before;
      // Handed over (written or queued), unless the write closed the stream (slow-client disconnect).
      if (!sub.stream.isClosed) delivered++;
    }
    // Kept apart: one large event can push several queued ones out, so "delivered - dropped"
    // could go negative, and a prom-client counter throws when decremented.
    if (delivered) this.#hooks.delivered?.(delivered);
    if (dropped) this.#hooks.dropped?.(dropped);
  }

  /**
   * Adds a stream: first it gets what it missed since `lastEventId` (or, when the history no
   * longer reaches back that far, a `ferry.history-gap` event and then all that is kept), then
   * every new event. The subscription ends with the stream; the returned function ends it sooner.
   */
  subscribe(stream: EventStream, options: SubscribeOptions = {}): () => void {
    const sub: Subscriber = { stream, filter: options.filter, pending: undefined };
    const broker = this.#broker;
    const following = broker && this.#follow(broker);
    if (options.lastEventId !== undefined) {
      if (broker && following && this.#historySize > 0) {
        sub.pending = [];
        void this.#replayShared(broker, following, sub, options.lastEventId);
      } else this.#replay(sub, options.lastEventId);
    }
    this.#subs.add(sub);
    this.#hooks.subscribers?.(this.#subs.size);
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      this.#subs.delete(sub);
      this.#hooks.subscribers?.(this.#subs.size);
      // Nobody here listens any more: stop reading the topic (its history stays with the broker).
      if (this.#subs.size === 0 && this.#following) {
        this.#following.stop();
        this.#following = undefined;
      }
    };
    stream.onClose(unsubscribe);
    return unsubscribe;
  }

  #replay(sub: Subscriber, lastEventId: string): void {
    const missed = this.#history.since(lastEventId);
    if (missed.gap) {
      // Not in the history: the client missed events we no longer have. Say so, then give what we have.
      sub.stream.send({ event: HISTORY_GAP_EVENT, data: { lastEventId, oldestId: missed.events[0]?.id ?? null } });
    }
    for (const ev of missed.events) if (!sub.filter || sub.filter(ev)) sub.stream.writeRaw(formatEvent(ev));
  }

  #follow(broker: Broker): Following {
    this.#following ??= broker.follow(this.#topic, {
      event: (ev) => this.#deliver(ev),
      gap: () => {
        // No id: the client's Last-Event-ID must stay the last real event's.
        const text = formatEvent({
          event: HISTORY_GAP_EVENT,
          data: { reason: 'events were trimmed while this instance was away from the broker' },
        });
        for (const s of this.#subs) if (!s.pending) s.stream.writeRaw(text);
      },
    });
    return this.#following;
  }

  /**
   * With a broker: resolves once events the broker stores from now on reach this channel (it
   * starts following the topic if it was not). Await it before answering a subscriber, so that
   * anything published after the client has its response reaches it. In process: at once.
   * Subscribe right after it resolves (in the same turn), or the channel stops following again.
   */
  async whenLive(): Promise<void> {
    if (!this.#broker) return;
    await this.#follow(this.#broker).live;
    setImmediate(() => {
      if (this.#subs.size === 0 && this.#following) {
        this.#following.stop();
        this.#following = undefined;
      }
    }).unref();
  }

  /**
   * Replays from the broker: once live events flow (they are held meanwhile), what the broker
   * stored after `lastEventId`, then the held events it did not include.
   */
  async #replayShared(broker: Broker, following: Following, sub: Subscriber, lastEventId: string): Promise<void> {
    let replay: { events: ChannelEvent[]; gap: boolean; reason?: string };
    try {
      await following.live;
      replay = await broker.since(this.#topic, lastEventId);
    } catch (err) {
      replay = { events: [], gap: true, reason: err instanceof BrokerUnavailableError ? 'broker unavailable' : (err as Error).message };
    }
    const stream = sub.stream;
    if (replay.gap) stream.send({ event: HISTORY_GAP_EVENT, data: { lastEventId, ...(replay.reason ? { reason: replay.reason } : {}) } });
    const replayed = new Set<string>();
    for (const ev of replay.events) {
      if (!sub.filter || sub.filter(ev)) stream.writeRaw(formatEvent(ev));
      replayed.add(ev.id);
    }
    const held = sub.pending ?? [];
    sub.pending = undefined;
    // Held events came after the topic was followed; the replay may reach past that: skip those it gave.
    for (const ev of held) if (!replayed.has(ev.id)) stream.writeRaw(formatEvent(ev));
  }

  /** Closes every subscribed stream. */
  closeAll(): void {
    for (const sub of [...this.#subs]) sub.stream.close();
  }
}
