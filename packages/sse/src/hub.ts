import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { HttpError, LabelLimit } from '@ferry/core';
import type { Broker, BrokerLogger } from './broker.js';
import { Channel, type ChannelHooks, type PublishedEvent } from './channel.js';
import { DEFAULT_HISTORY, DEFAULT_HISTORY_BYTES, DEFAULT_MAX_HISTORY_BYTES } from './history.js';
import type { SseEvent } from './format.js';
import { RedisBroker } from './redis.js';

/** Where a hub's topics live: in this process (the default), or shared through Redis. */
export type BrokerOption =
  | Broker
  | { redis: { url: string; key_prefix?: string /** Milliseconds (RedisBrokerOptions.expireAfterMs). */; expire_after?: number } };

/** What a hub keeps for replay: per topic (events, bytes), and over all its topics (bytes). */
export interface HistoryLimits {
  events: number;
  bytes: number;
  totalBytes: number;
}

export interface HubOptions {
  metrics?: MetricsRegistry;
  /** Events kept per topic (DEFAULT_HISTORY). */
  history?: number;
  /** Bytes of events kept per topic (DEFAULT_HISTORY_BYTES). */
  historyBytes?: number;
  /**
   * Bytes of events kept over all topics (DEFAULT_MAX_HISTORY_BYTES): past it, the topic
   * published to least recently loses its oldest events first.
   */
  maxHistoryBytes?: number;
  maxTopics?: number;
  /**
   * Topics with series of their own in the metrics (DEFAULT_METRICS_TOPICS), per metrics registry
   * (the first hub on it decides): later topics are counted under `topic="other"`.
   */
  metricsTopics?: number;
  /** Shares topics with every instance using the same broker; unset, they live in this process. */
  broker?: BrokerOption;
  /** Where the broker logs losing and regaining its connection. */
  logger?: BrokerLogger;
}

/**
 * Topic series per metrics registry unless told otherwise: topic names come from requests
 * (placeholders), and 30,000 of them made a 40 MiB scrape (issue 13, item 5); 1,000 series of
 * each metric keep it in the hundreds of KiB.
 */
export const DEFAULT_METRICS_TOPICS = 1000;

/** Topics a hub (or the relay under --workers) holds at most, idle ones evicted first. */
export const DEFAULT_MAX_TOPICS = 10_000;

interface HubMetrics {
  /** The `topic` label of a topic name: its own for the first ones, then "other". */
  topics: LabelLimit;
  subscribers: Gauge<'topic'>;
  published: Counter<'topic'>;
  delivered: Counter<'topic'>;
  dropped: Counter<'topic'>;
  localOnly: Counter<'topic'>;
}

function metric<T>(registry: MetricsRegistry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** One bound per registry: the series it holds are what a scrape pays for. */
const topicLabelsByRegistry = new WeakMap<MetricsRegistry, LabelLimit>();

function hubMetrics(registry: MetricsRegistry, metricsTopics: number): HubMetrics {
  const registers = [registry];
  let topics = topicLabelsByRegistry.get(registry);
  if (!topics) topicLabelsByRegistry.set(registry, (topics = new LabelLimit(metricsTopics, 'other')));
  return {
    topics,
    subscribers: metric(
      registry,
      'ferry_sse_subscribers',
      () => new Gauge({ name: 'ferry_sse_subscribers', help: 'Open SSE subscriptions, by topic', labelNames: ['topic'], registers }),
    ),
    published: metric(
      registry,
      'ferry_sse_events_published_total',
      () => new Counter({ name: 'ferry_sse_events_published_total', help: 'Events published, by topic', labelNames: ['topic'], registers }),
    ),
    delivered: metric(
      registry,
      'ferry_sse_events_delivered_total',
      () =>
        new Counter({
          name: 'ferry_sse_events_delivered_total',
          help: 'Events handed to subscribers, by topic',
          labelNames: ['topic'],
          registers,
        }),
    ),
    dropped: metric(
      registry,
      'ferry_sse_events_dropped_total',
      () =>
        new Counter({
          name: 'ferry_sse_events_dropped_total',
          help: 'Events dropped for slow subscribers, by topic',
          labelNames: ['topic'],
          registers,
        }),
    ),
    localOnly: metric(
      registry,
      'ferry_sse_events_local_only_total',
      () =>
        new Counter({
          name: 'ferry_sse_events_local_only_total',
          help: 'Events published while the broker was away: delivered on this instance only, not stored',
          labelNames: ['topic'],
          registers,
        }),
    ),
  };
}

/** The brokers of the hubs on each registry, for `ferry_sse_broker_connected` (read at scrape time). */
const brokersByRegistry = new WeakMap<MetricsRegistry, Set<Broker>>();

/** Counts `broker` in `ferry_sse_broker_connected` of `registry` until the returned function is called. */
function watchBroker(registry: MetricsRegistry, broker: Broker): () => void {
  let brokers = brokersByRegistry.get(registry);
  if (!brokers) brokersByRegistry.set(registry, (brokers = new Set()));
  const all = brokers;
  metric(
    registry,
    'ferry_sse_broker_connected',
    () =>
      new Gauge({
        name: 'ferry_sse_broker_connected',
        help: 'Whether the SSE hubs reach their broker (1) or deliver locally only (0), by broker kind',
        labelNames: ['broker'],
        registers: [registry],
        // Under --workers: 1 only when every worker reaches it.
        aggregator: 'min',
        collect() {
          this.reset();
          const up = new Map<string, boolean>();
          for (const b of all) up.set(b.kind, (up.get(b.kind) ?? true) && b.available);
          for (const [kind, ok] of up) this.set({ broker: kind }, ok ? 1 : 0);
        },
      }),
  );
  all.add(broker);
  return () => all.delete(broker);
}

/** Topics by name, each a Channel, created on first use; with metrics when given a registry. */
export class Hub {
  readonly #topics = new Map<string, Channel>();
  readonly #metrics: HubMetrics | undefined;
  #history: HistoryLimits;
  #historyConfigured = false;
  #keptBytes = 0;
  /** Topics with events kept, the one published to least recently first: the first to give bytes up. */
  readonly #recent = new Set<string>();
  readonly #maxTopics: number;
  readonly #broker: Broker | undefined;
  readonly #unwatch: (() => void) | undefined;

  /**
   * `maxTopics` bounds memory when topic names come from requests (placeholders): past it, the
   * least recently used topic without subscribers is forgotten (its history with it); when every
   * topic has subscribers, a new one is refused with 503.
   */
  constructor(options: HubOptions = {}) {
    this.#metrics = options.metrics ? hubMetrics(options.metrics, options.metricsTopics ?? DEFAULT_METRICS_TOPICS) : undefined;
    this.#history = {
      events: options.history ?? DEFAULT_HISTORY,
      bytes: options.historyBytes ?? DEFAULT_HISTORY_BYTES,
      totalBytes: options.maxHistoryBytes ?? DEFAULT_MAX_HISTORY_BYTES,
    };
    this.#maxTopics = options.maxTopics ?? DEFAULT_MAX_TOPICS;
    const b = options.broker;
    this.#broker =
      b && 'redis' in b
        ? new RedisBroker({
            url: b.redis.url,
            ...(b.redis.key_prefix !== undefined ? { keyPrefix: b.redis.key_prefix } : {}),
            ...(b.redis.expire_after !== undefined ? { expireAfterMs: b.redis.expire_after } : {}),
            ...(options.logger ? { logger: options.logger } : {}),
          })
        : b;
    if (this.#broker && options.metrics) this.#unwatch = watchBroker(options.metrics, this.#broker);
  }

  /** The broker sharing this hub's topics, if any. */
  get broker(): Broker | undefined {
    return this.#broker;
  }

  #evictOne(): boolean {
    for (const [name, ch] of this.#topics) {
      if (ch.size > 0) continue;
      ch.trimHistory(0); // its bytes leave the hub's count
      this.#topics.delete(name);
      const m = this.#metrics;
      // "other" stands for other topics too: it stays.
      const label = m?.topics.value(name);
      if (m && label !== m.topics.overflow)
        for (const metric of [m.subscribers, m.published, m.delivered, m.dropped, m.localOnly]) metric.remove({ topic: name });
      return true;
    }
    return false;
  }

  /**
   * Sets the history the hub keeps: the largest any subscriber handler of the app asks for, each
   * bound apart (the first call replaces the defaults). A topic is often made by its first
   * publish, before any subscriber: it must keep what the config says from the start.
   */
  requireHistory(limits: HistoryLimits): void {
    const h = this.#history;
    this.#history = this.#historyConfigured
      ? {
          events: Math.max(h.events, limits.events),
          bytes: Math.max(h.bytes, limits.bytes),
          totalBytes: Math.max(h.totalBytes, limits.totalBytes),
        }
      : { ...limits };
    this.#historyConfigured = true;
    for (const ch of this.#topics.values()) ch.ensureHistory(this.#history.events, this.#history.bytes);
  }

  /** Bytes of events kept for replay now, over all topics. */
  get keptBytes(): number {
    return this.#keptBytes;
  }

  /** The channel for `name`, keeping at least `history` events. */
  topic(name: string, history = this.#history.events): Channel {
    let ch = this.#topics.get(name);
    if (ch) {
      // Most recently used last: eviction walks from the front.
      this.#topics.delete(name);
      this.#topics.set(name, ch);
    }
    if (!ch) {
      if (this.#topics.size >= this.#maxTopics && !this.#evictOne()) {
        throw new HttpError(503, `too many topics (${this.#maxTopics}), all with subscribers`);
      }
      const made: { channel?: Channel } = {};
      ch = made.channel = new Channel({
        history,
        historyBytes: this.#history.bytes,
        hooks: this.#hooks(name, made),
        ...(this.#broker ? { broker: { broker: this.#broker, topic: name } } : {}),
      });
      this.#topics.set(name, ch);
    } else ch.ensureHistory(history, this.#history.bytes);
    return ch;
  }

  /**
   * What topic `name` (`made.channel`) reports: its history's bytes to the hub's count, and its
   * metrics. A channel someone still holds after its topic was evicted may go on publishing: its
   * bytes are no longer the hub's to count or trim.
   */
  #hooks(name: string, made: { channel?: Channel }): ChannelHooks {
    let kept = 0;
    const current = () => this.#topics.get(name) === made.channel;
    const m = this.#metrics;
    const labels = m && { topic: m.topics.value(name) };
    return {
      history: (bytes) => {
        if (!current()) return;
        this.#keptBytes += bytes - kept;
        kept = bytes;
        if (bytes === 0) this.#recent.delete(name);
      },
      published: () => {
        if (labels) m.published.inc(labels);
        if (kept > 0 && current()) this.#keptRecently(name);
      },
      ...(labels && {
        delivered: (n: number) => m.delivered.inc(labels, n),
        dropped: (n: number) => m.dropped.inc(labels, n),
        subscribers: this.#subscriberGauge(m, labels),
        localOnly: () => m.localOnly.inc(labels),
      }),
    };
  }

  /**
   * Moves the subscriber gauge by each change of one topic's count: under "other" several topics
   * share a series, so none of them may set it.
   */
  #subscriberGauge(m: HubMetrics, labels: { topic: string }): (count: number) => void {
    let last = 0;
    return (count) => {
      if (count > last) m.subscribers.inc(labels, count - last);
      else if (count < last) m.subscribers.dec(labels, last - count);
      last = count;
    };
  }

  /**
   * `name` just kept an event: it becomes the last to give bytes up. Past the hub's bound, the
   * topics published to least recently drop their oldest events (a replay from them reports the
   * gap), until the bound holds.
   */
  #keptRecently(name: string): void {
    this.#recent.delete(name);
    this.#recent.add(name);
    const max = this.#history.totalBytes;
    // A topic that empties leaves the set while it is walked: a Set allows that.
    for (const oldest of this.#recent) {
      if (this.#keptBytes <= max) break;
      const ch = this.#topics.get(oldest)!;
      ch.trimHistory(Math.max(0, ch.keptBytes - (this.#keptBytes - max)));
    }
  }

  /** Topic names with a channel. */
  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Publishes to a topic (see Channel.publish). */
  publish(topic: string, ev: SseEvent): Promise<PublishedEvent> {
    return this.topic(topic).publish(ev);
  }

  /** Closes every stream of every topic (shutdown). */
  closeAll(): void {
    for (const ch of this.#topics.values()) ch.closeAll();
  }

  /** Closes every stream, then the broker's connections. */
  async close(): Promise<void> {
    this.closeAll();
    this.#unwatch?.();
    await this.#broker?.close();
  }
}
