import type { ChannelEvent } from './channel.js';
import type { SseEvent } from './format.js';

/** What a broker hands back for a `Last-Event-ID`: the events after it, and whether some are missing. */
export interface BrokerReplay {
  events: ChannelEvent[];
  /** True when events after the id may no longer be kept (trimmed, or the broker lost them). */
  gap: boolean;
}

/** What a followed topic reports to its channel. */
export interface TopicListener {
  /** An event stored by any instance, in the broker's order. */
  event(ev: ChannelEvent): void;
  /** Events were stored while this instance was away and are no longer kept: subscribers missed some. */
  gap(): void;
}

export interface Following {
  /** Settles once events stored from now on reach the listener (or the broker is away: then on its return). */
  readonly live: Promise<void>;
  stop(): void;
}

/**
 * Shares topics between Ferry instances. A published event is stored by the broker and reaches
 * every instance following its topic — this one included, in the same order everywhere — so ids
 * and replay agree on every instance.
 */
export interface Broker {
  /** A short name for logs and metrics (`"redis"`). */
  readonly kind: string;
  /** Whether a publisher may give an event's id (else the broker gives every id and one given is an error). */
  readonly keepsIds: boolean;
  /**
   * Stores `ev` (its id is the broker's to give, unless `keepsIds`) keeping at most `history` events of the topic
   * — and at most `historyBytes` bytes of them as sent, where the broker can bound bytes —
   * and resolves with the id. Rejects with BrokerUnavailableError when the broker cannot take it.
   */
  publish(topic: string, ev: SseEvent, history: number, historyBytes?: number): Promise<string>;
  /** Starts handing `topic`'s events to `listener`, until `stop()`. One follower per topic per instance. */
  follow(topic: string, listener: TopicListener): Following;
  /** The events stored after `lastEventId`, oldest first. Rejects with BrokerUnavailableError when away. */
  since(topic: string, lastEventId: string): Promise<BrokerReplay>;
  /** Whether the broker can take a publish right now. */
  readonly available: boolean;
  close(): Promise<void>;
}

/** Where a broker says it lost or regained its connection (a pino logger fits). */
export interface BrokerLogger {
  warn(msg: string): void;
  info(msg: string): void;
}

/** The broker cannot be reached: the event was not stored, and only this instance's subscribers get it. */
export class BrokerUnavailableError extends Error {
  override name = 'BrokerUnavailableError';
  /** `FERRY_ERR_BROKER_UNAVAILABLE` (docs/errors.md): a Broker throws it from `publish` or `replay` while away. */
  readonly code = 'FERRY_ERR_BROKER_UNAVAILABLE';
}
