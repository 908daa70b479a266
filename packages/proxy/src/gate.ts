import type { Cancel } from './cancel.js';

/**
 * Admits at most `limit` round trips to one upstream at once; the others wait their turn, in
 * order (Go's MaxConnsPerHost). A waiter whose request is cancelled leaves the queue at once, so
 * waiting requests stay bounded by live clients.
 */
export class Gate {
  #busy = 0;
  readonly #waiting = new Set<() => void>();

  constructor(readonly limit: number) {}

  /** Resolves true once admitted (call `release()` after), false if `cancel` came first. */
  acquire(cancel: Cancel): Promise<boolean> {
    if (cancel.aborted) return Promise.resolve(false);
    if (this.#busy < this.limit) {
      this.#busy++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const admit = () => {
        unwatch();
        resolve(true);
      };
      this.#waiting.add(admit);
      const unwatch = cancel.watch(() => {
        this.#waiting.delete(admit);
        resolve(false);
      });
    });
  }

  /** Frees a place: the longest waiter takes it over (a Set iterates in insertion order). */
  release(): void {
    const next = this.#waiting.values().next();
    if (next.done) {
      this.#busy--;
      return;
    }
    this.#waiting.delete(next.value);
    next.value();
  }
}
