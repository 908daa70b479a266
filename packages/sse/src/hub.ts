import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { HttpError } from '@ferry/core';
import type { Broker, BrokerLogger } from './broker.js';
import { Channel, type PublishedEvent } from './channel.js';
import type { SseEvent } from './format.js';
import { RedisBroker } from './redis.js';

/** Where a hub's topics live: in this process (the default), or shared through Redis. */
export type BrokerOption = Broker | { redis: { url: string; key_prefix?: string; /** Milliseconds (RedisBrokerOptions.expireAfterMs). */ expire_after?: number } };

export interface HubOptions {
  metrics?: MetricsRegistry;
  history?: number;
  maxTopics?: number;
  /** Shares topics with every instance using the same broker; unset, they live in this process. */
  broker?: BrokerOption;
  /** Where the broker logs losing and regaining its connection. */
  logger?: BrokerLogger;
}

interface HubMetrics {
  subscribers: Gauge<'topic'>;
  published: Counter<'topic'>;
  delivered: Counter<'topic'>;
  dropped: Counter<'topic'>;
  localOnly: Counter<'topic'>;
}

function metric<T>(registry: MetricsRegistry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

function hubMetrics(registry: MetricsRegistry): HubMetrics {
  const registers = [registry];
  return {
    subscribers: metric(registry, 'ferry_sse_subscribers', () => new Gauge({ name: 'ferry_sse_subscribers', help: 'Open SSE subscriptions, by topic', labelNames: ['topic'], registers })),
    published: metric(registry, 'ferry_sse_events_published_total', () => new Counter({ name: 'ferry_sse_events_published_total', help: 'Events published, by topic', labelNames: ['topic'], registers })),
    delivered: metric(registry, 'ferry_sse_events_delivered_total', () => new Counter({ name: 'ferry_sse_events_delivered_total', help: 'Events handed to subscribers, by topic', labelNames: ['topic'], registers })),
    dropped: metric(registry, 'ferry_sse_events_dropped_total', () => new Counter({ name: 'ferry_sse_events_dropped_total', help: 'Events dropped for slow subscribers, by topic', labelNames: ['topic'], registers })),
    localOnly: metric(
      registry,
      'ferry_sse_events_local_only_total',
      () => new Counter({ name: 'ferry_sse_events_local_only_total', help: 'Events published while the broker was away: delivered on this instance only, not stored', labelNames: ['topic'], registers }),
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
  #history: number;
  #historyConfigured = false;
  readonly #maxTopics: number;
  readonly #broker: Broker | undefined;
  readonly #unwatch: (() => void) | undefined;

  /**
   * `maxTopics` bounds memory when topic names come from requests (placeholders): past it, the
   * least recently used topic without subscribers is forgotten (its history with it); when every
   * topic has subscribers, a new one is refused with 503.
   */
  constructor(options: HubOptions = {}) {
    this.#metrics = options.metrics ? hubMetrics(options.metrics) : undefined;
    this.#history = options.history ?? 100;
    this.#maxTopics = options.maxTopics ?? 10_000;
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
      this.#topics.delete(name);
      const m = this.#metrics;
      if (m) for (const metric of [m.subscribers, m.published, m.delivered, m.dropped, m.localOnly]) metric.remove({ topic: name });
      return true;
    }
    return false;
  }

  /**
   * Sets the history every topic keeps: the largest any subscriber handler of the app asks for
   * (the first call replaces the default). A topic is often made by its first publish, before any
   * subscriber: it must keep what the config says from the start, not the default.
   */
  requireHistory(n: number): void {
    this.#history = this.#historyConfigured ? Math.max(this.#history, n) : n;
    this.#historyConfigured = true;
    for (const ch of this.#topics.values()) ch.ensureHistory(this.#history);
  }

  /** The channel for `name`, keeping at least `history` events. */
  topic(name: string, history = this.#history): Channel {
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
      const m = this.#metrics;
      ch = new Channel({
        history,
        hooks: m && {
          published: () => m.published.inc({ topic: name }),
          delivered: (n) => m.delivered.inc({ topic: name }, n),
          dropped: (n) => m.dropped.inc({ topic: name }, n),
          subscribers: (n) => m.subscribers.set({ topic: name }, n),
          localOnly: () => m.localOnly.inc({ topic: name }),
        },
        ...(this.#broker ? { broker: { broker: this.#broker, topic: name } } : {}),
      });
      this.#topics.set(name, ch);
    } else ch.ensureHistory(history);
    return ch;
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
