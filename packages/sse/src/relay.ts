import type { BrokerReplay } from './broker.js';
import type { ChannelEvent } from './channel.js';
import { formatEvent, type SseEvent } from './format.js';
import { DEFAULT_HISTORY_BYTES, DEFAULT_MAX_HISTORY_BYTES, History } from './history.js';
import { DEFAULT_MAX_TOPICS } from './hub.js';

/**
 * The relay: how the instances of one host (the worker processes of `ferry run --workers N`)
 * share topics without an outside broker. One Relay, run where the host chooses (ferry: its
 * primary process), keeps each topic's history and gives the ids (`1`, `2`, …, per topic, as one
 * process would); every instance's hub reaches it through a RelayBroker, over a channel the host
 * provides (RelayTransport). A publish on any instance is announced to every instance, in one
 * order. The messages below are the whole protocol; their `type`s start with `ferry.sse.`.
 */
export type RelayRequest =
  | { type: 'ferry.sse.publish'; topic: string; ev: SseEvent; history: number; historyBytes?: number }
  | { type: 'ferry.sse.since'; topic: string; lastEventId: string };

/** The relay's answer to a request: the published event's id, a replay, or why it could not. */
export type RelayReply = { id: string } | { replay: BrokerReplay } | { error: string };

/** An event stored by the relay, for every instance (the publisher's included). */
export interface RelayAnnounce {
  type: 'ferry.sse.event';
  topic: string;
  ev: ChannelEvent;
}

interface StoredTopic {
  seq: number;
  history: History;
}

/**
 * The relay's topic store. `handle` takes a message from an instance, answers through `reply`
 * and then announces the event through `announce` (to every instance, the sender included); it
 * returns false for a message that is not a RelayRequest. The host carries the messages and
 * matches answers to requests.
 */
export class Relay {
  /** The topic published to least recently first. */
  readonly #topics = new Map<string, StoredTopic>();
  readonly #maxTopics: number;
  readonly #maxHistoryBytes: number;
  #bytes = 0;
  /** Topics with events kept, the one published to least recently first: the first to give bytes up. */
  readonly #recent = new Set<string>();

  /**
   * `maxTopics`: past it, the topic published to least recently is forgotten. `maxHistoryBytes`
   * (DEFAULT_MAX_HISTORY_BYTES): bytes of events kept over all topics; past it, the topics
   * published to least recently lose their oldest events first, as an instance's own hub does.
   */
  constructor(options: { maxTopics?: number; maxHistoryBytes?: number } = {}) {
    this.#maxTopics = options.maxTopics ?? DEFAULT_MAX_TOPICS;
    this.#maxHistoryBytes = options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES;
  }

  handle(message: unknown, reply: (r: RelayReply) => void, announce: (a: RelayAnnounce) => void): boolean {
    const m = message as RelayRequest | undefined;
    if (m?.type === 'ferry.sse.publish') {
      const t = this.#topic(m.topic);
      const ev: ChannelEvent = { ...m.ev, id: m.ev.id ?? String(++t.seq) };
      this.#keep(m.topic, t, ev, m.history, m.historyBytes ?? DEFAULT_HISTORY_BYTES);
      reply({ id: ev.id });
      announce({ type: 'ferry.sse.event', topic: m.topic, ev });
      return true;
    }
    if (m?.type === 'ferry.sse.since') {
      reply({ replay: this.#topics.get(m.topic)?.history.since(m.lastEventId) ?? { events: [], gap: true } });
      return true;
    }
    return false;
  }

  /** Keeps `ev` in topic `name`, then trims the topics published to least recently, oldest events first, to the bound over all topics. */
  #keep(name: string, t: StoredTopic, ev: ChannelEvent, maxEvents: number, maxBytes: number): void {
    const before = t.history.bytes;
    t.history.add(ev, Buffer.byteLength(formatEvent(ev)), maxEvents, maxBytes);
    this.#bytes += t.history.bytes - before;
    this.#recent.delete(name);
    if (t.history.bytes > 0) this.#recent.add(name);
    // A topic that empties leaves the set while it is walked: a Set allows that.
    for (const oldest of this.#recent) {
      if (this.#bytes <= this.#maxHistoryBytes) break;
      const h = this.#topics.get(oldest)!.history;
      const had = h.bytes;
      h.trim(Infinity, Math.max(0, had - (this.#bytes - this.#maxHistoryBytes)));
      this.#bytes -= had - h.bytes;
      if (h.bytes === 0) this.#recent.delete(oldest);
    }
  }

  #topic(name: string): StoredTopic {
    let t = this.#topics.get(name);
    if (t)
      this.#topics.delete(name); // most recently used last
    else {
      t = { seq: 0, history: new History() };
      if (this.#topics.size >= this.#maxTopics) {
        const [oldest, forgotten] = this.#topics.entries().next().value!;
        this.#bytes -= forgotten.history.bytes;
        this.#recent.delete(oldest);
        this.#topics.delete(oldest);
      }
    }
    this.#topics.set(name, t);
    return t;
  }
}
