import type { ChannelEvent } from './channel.js';

/** Events a channel (a hub's topic) keeps for replay unless told otherwise. */
export const DEFAULT_HISTORY = 100;
/**
 * Bytes of events (as sent) a channel (a hub's topic) keeps for replay unless told otherwise:
 * 2 MiB holds the largest event `sse_publish` takes by default (a 1 MiB body) beside others, and
 * the default 100 events of up to 20 KiB each — replay covers a reconnection, not an archive.
 */
export const DEFAULT_HISTORY_BYTES = 2 * 1024 * 1024;

/**
 * Bytes of events a hub keeps for replay over all its topics unless told otherwise: 64 MiB is a
 * bound a small VM affords, and holds the default history of hundreds of busy topics.
 */
export const DEFAULT_MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/** What a client that saw `lastEventId` missed, from a history. */
export interface Missed {
  events: ChannelEvent[];
  /** True when `lastEventId` is not kept (too old, or unknown): `events` is everything kept. */
  gap: boolean;
}

/**
 * Events kept for Last-Event-ID replay, oldest first, bounded by their number and by their bytes
 * as sent. It stays one run up to the newest event: dropping always starts at the oldest, so a
 * client resuming from before a dropped event is told of the gap, never skips it silently.
 */
export class History {
  readonly #events: ChannelEvent[] = [];
  /** The size of each kept event as sent, beside `#events`. */
  readonly #sizes: number[] = [];
  #bytes = 0;

  /** The kept events, oldest first. */
  get events(): readonly ChannelEvent[] {
    return this.#events;
  }

  /** Bytes of the kept events, as sent. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps `ev` (`size` bytes as sent), then drops the oldest events past either bound. An event
   * larger than `maxBytes` goes too, with all before it.
   */
  add(ev: ChannelEvent, size: number, maxEvents: number, maxBytes: number): void {
    if (maxEvents <= 0) return;
    this.#events.push(ev);
    this.#sizes.push(size);
    this.#bytes += size;
    this.trim(maxEvents, maxBytes);
  }

  /** Drops the oldest events until at most `maxEvents` and `maxBytes` are kept; true when any went. */
  trim(maxEvents: number, maxBytes: number): boolean {
    let n = 0;
    let freed = 0;
    const length = this.#events.length;
    while (n < length && (length - n > maxEvents || this.#bytes - freed > maxBytes)) freed += this.#sizes[n++]!;
    if (n === 0) return false;
    this.#events.splice(0, n);
    this.#sizes.splice(0, n);
    this.#bytes -= freed;
    return true;
  }

  /** The events after `lastEventId` (its latest occurrence: a publisher may reuse ids), or all with a gap. */
  since(lastEventId: string): Missed {
    for (let i = this.#events.length - 1; i >= 0; i--) {
      if (this.#events[i]!.id === lastEventId) return { events: this.#events.slice(i + 1), gap: false };
    }
    return { events: [...this.#events], gap: true };
  }
}
