import type { Broker, BrokerReplay, Following, TopicListener } from './broker.js';
import type { SseEvent } from './format.js';
import type { RelayAnnounce, RelayReply, RelayRequest } from './relay.js';

/**
 * The channel between an instance and the Relay, which the host provides (ferry: the cluster IPC
 * between a worker and its primary). The relay protocol is SSE's; carrying it is the host's.
 */
export interface RelayTransport {
  /** Names the relay in logs and metrics (`ferry_sse_broker_connected{broker="cluster"}`). */
  readonly kind: string;
  /** Whether the relay can be reached now. */
  readonly connected: boolean;
  /**
   * Sends `request` to the relay and resolves with its reply. Rejects with BrokerUnavailableError
   * when the relay cannot be reached or has not answered within `timeoutMs`.
   */
  ask(request: RelayRequest, timeoutMs: number): Promise<RelayReply>;
  /** Hands every RelayAnnounce the relay sends to `listener`, until the returned function is called. */
  listen(listener: (announce: RelayAnnounce) => void): () => void;
}

/** An instance's Broker: its hub's topics stored by the Relay, over the host's transport. */
export class RelayBroker implements Broker {
  readonly keepsIds = true;
  readonly #transport: RelayTransport;
  readonly #listeners = new Map<string, TopicListener>();
  readonly #unlisten: () => void;
  readonly #timeout: number;

  /** `timeout`: how long to wait for the relay before treating it as away (local delivery). */
  constructor(transport: RelayTransport, options: { timeout?: number } = {}) {
    this.#transport = transport;
    this.#timeout = options.timeout ?? 2000;
    this.#unlisten = transport.listen((a) => this.#listeners.get(a.topic)?.event(a.ev));
  }

  get kind(): string {
    return this.#transport.kind;
  }

  get available(): boolean {
    return this.#transport.connected;
  }

  async publish(topic: string, ev: SseEvent, history: number, historyBytes?: number): Promise<string> {
    const r = await this.#transport.ask(
      {
        type: 'ferry.sse.publish',
        topic,
        ev: { event: ev.event, data: ev.data, retry: ev.retry, id: ev.id },
        history,
        ...(historyBytes !== undefined ? { historyBytes } : {}),
      },
      this.#timeout,
    );
    if ('error' in r) throw new Error(r.error);
    if (!('id' in r)) throw new Error('unexpected answer from the relay');
    return r.id;
  }

  follow(topic: string, listener: TopicListener): Following {
    this.#listeners.set(topic, listener);
    // Every instance gets every announcement, in the relay's order: live at once.
    return { live: Promise.resolve(), stop: () => this.#listeners.get(topic) === listener && this.#listeners.delete(topic) };
  }

  async since(topic: string, lastEventId: string): Promise<BrokerReplay> {
    const r = await this.#transport.ask({ type: 'ferry.sse.since', topic, lastEventId }, this.#timeout);
    if (!('replay' in r)) throw new Error('unexpected answer from the relay');
    return r.replay;
  }

  async close(): Promise<void> {
    this.#unlisten();
    this.#listeners.clear();
  }
}
