import { askPrimary, PrimaryUnavailableError } from '@ferry/core';
import { BrokerUnavailableError, type Broker, type BrokerReplay, type Following, type TopicListener } from './broker.js';
import type { ChannelEvent } from './channel.js';
import { formatEvent, type SseEvent } from './format.js';
import { DEFAULT_HISTORY_BYTES, DEFAULT_MAX_HISTORY_BYTES, History } from './history.js';

/**
 * The SSE relay of `ferry run --workers N`: without Redis, the workers' hubs share topics through
 * the primary process. The primary keeps each topic's history and gives the ids (`1`, `2`, …, per
 * topic, as one process would); a publish on any worker is sent to every worker, in one order.
 * The messages travel on the cluster IPC channel, all with a `type` starting `ferry.sse.`.
 */
type Request =
  | { type: 'ferry.sse.publish'; rid: number; topic: string; ev: SseEvent; history: number; historyBytes?: number }
  | { type: 'ferry.sse.since'; rid: number; topic: string; lastEventId: string };

/** The answer to a request: `askPrimary`'s `ferry.reply`. */
type Reply =
  | { type: 'ferry.reply'; rid: number; id: string }
  | { type: 'ferry.reply'; rid: number; replay: BrokerReplay }
  | { type: 'ferry.reply'; rid: number; error: string };

type WithoutRid<T> = T extends unknown ? Omit<T, 'rid'> : never;

interface Announce {
  type: 'ferry.sse.event';
  topic: string;
  ev: ChannelEvent;
}

interface Message {
  type: string;
  [k: string]: unknown;
}

interface StoredTopic {
  seq: number;
  history: History;
}

/**
 * The primary's side: a topic store answering the workers' publishes and replays. `handle` takes
 * a message from a worker, answers through `reply` and announces events through `broadcast`
 * (to every worker, the sender included); it returns false for a message that is not its own.
 */
export class ClusterRelay {
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
   * published to least recently lose their oldest events first, as a worker's own hub does.
   */
  constructor(options: { maxTopics?: number; maxHistoryBytes?: number } = {}) {
    this.#maxTopics = options.maxTopics ?? 10_000;
    this.#maxHistoryBytes = options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES;
  }

  handle(message: unknown, reply: (m: Reply) => void, broadcast: (m: Announce) => void): boolean {
    const m = message as Request | undefined;
    if (m?.type === 'ferry.sse.publish') {
      const t = this.#topic(m.topic);
      const ev: ChannelEvent = { ...m.ev, id: m.ev.id ?? String(++t.seq) };
      this.#keep(m.topic, t, ev, m.history, m.historyBytes ?? DEFAULT_HISTORY_BYTES);
      reply({ type: 'ferry.reply', rid: m.rid, id: ev.id });
      broadcast({ type: 'ferry.sse.event', topic: m.topic, ev });
      return true;
    }
    if (m?.type === 'ferry.sse.since') {
      const replay: BrokerReplay = this.#topics.get(m.topic)?.history.since(m.lastEventId) ?? { events: [], gap: true };
      reply({ type: 'ferry.reply', rid: m.rid, replay });
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

/** The worker's side: a Broker over the IPC channel to the primary's ClusterRelay. */
export class ClusterBroker implements Broker {
  readonly kind = 'cluster';
  readonly keepsIds = true;
  readonly #listeners = new Map<string, TopicListener>();
  readonly #onMessage = (m: Message) => this.#message(m);
  readonly #timeout: number;

  /** `timeout`: how long to wait for the primary before treating it as away (local delivery). */
  constructor(options: { timeout?: number } = {}) {
    if (typeof process.send !== 'function') throw new Error('ClusterBroker needs an IPC channel to the primary (a cluster worker)');
    this.#timeout = options.timeout ?? 2000;
    process.on('message', this.#onMessage);
  }

  get available(): boolean {
    return process.connected;
  }

  #message(m: Message): void {
    if (m?.type !== 'ferry.sse.event') return;
    const a = m as unknown as Announce;
    this.#listeners.get(a.topic)?.event(a.ev);
  }

  async #ask(req: WithoutRid<Request>): Promise<Reply> {
    try {
      return (await askPrimary(req, this.#timeout)) as unknown as Reply;
    } catch (err) {
      // Treated as a broker outage: the hub delivers locally meanwhile.
      if (err instanceof PrimaryUnavailableError) throw new BrokerUnavailableError(err.message);
      throw err;
    }
  }

  async publish(topic: string, ev: SseEvent, history: number, historyBytes?: number): Promise<string> {
    const r = await this.#ask({
      type: 'ferry.sse.publish',
      topic,
      ev: { event: ev.event, data: ev.data, retry: ev.retry, id: ev.id },
      history,
      ...(historyBytes !== undefined ? { historyBytes } : {}),
    });
    if ('error' in r) throw new Error(r.error);
    if (!('id' in r)) throw new Error('unexpected answer from the primary');
    return r.id;
  }

  follow(topic: string, listener: TopicListener): Following {
    this.#listeners.set(topic, listener);
    // Every worker gets every announcement, in the primary's order: live at once.
    return { live: Promise.resolve(), stop: () => this.#listeners.get(topic) === listener && this.#listeners.delete(topic) };
  }

  async since(topic: string, lastEventId: string): Promise<BrokerReplay> {
    const r = await this.#ask({ type: 'ferry.sse.since', topic, lastEventId });
    if (!('replay' in r)) throw new Error('unexpected answer from the primary');
    return r.replay;
  }

  async close(): Promise<void> {
    process.off('message', this.#onMessage);
    this.#listeners.clear();
  }
}
