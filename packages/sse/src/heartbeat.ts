/**
 * One timer for every stream beating at the same interval. A `setInterval` per stream cost each
 * subscriber a Timeout and its closure (about 200 bytes of 10,000 subscribers' heap). Each stream
 * keeps its own phase, as with its own interval: it is due `every` ms after it joined, then
 * `every` ms after each beat. All share one interval, so the order they joined in is the order
 * they fall due in, and a Map kept in that order (a beaten stream moves to its end) is the queue.
 */
export class Heartbeat<T> {
  readonly #every: number;
  readonly #beat: (stream: T) => void;
  /** Streams by when they are next due (whole ms of `performance.now()`), soonest first. */
  readonly #due = new Map<T, number>();
  #timer: NodeJS.Timeout | undefined;

  /** `beat` sends one stream its heartbeat (if it is idle). */
  constructor(every: number, beat: (stream: T) => void) {
    this.#every = every;
    this.#beat = beat;
  }

  /** `stream` beats every `every` ms from now until `delete`d. */
  add(stream: T): void {
    this.#due.set(stream, now() + this.#every);
    if (this.#timer === undefined) this.#schedule(this.#every);
  }

  delete(stream: T): void {
    this.#due.delete(stream);
    if (this.#due.size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(this.#tick, delay);
    // As each stream's own interval was: a heartbeat never keeps the process alive.
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    const at = now();
    // A beaten stream goes back to the end, due after `at`: the walk stops there at the latest.
    for (const [stream, due] of this.#due) {
      if (due > at) break;
      this.#due.delete(stream);
      this.#due.set(stream, at + this.#every);
      this.#beat(stream);
    }
    for (const due of this.#due.values()) {
      this.#schedule(Math.max(1, due - now()));
      break;
    }
  };
}

/** Milliseconds, whole: a small integer is stored in the Map as it is, a fraction would take a heap number each. */
const now = (): number => Math.ceil(performance.now());

/** The Heartbeat of each interval, made on first use: `every(ms)`. */
export function heartbeats<T>(beat: (stream: T) => void): (every: number) => Heartbeat<T> {
  const byInterval = new Map<number, Heartbeat<T>>();
  return (every) => {
    let h = byInterval.get(every);
    if (!h) byInterval.set(every, (h = new Heartbeat(every, beat)));
    return h;
  };
}
