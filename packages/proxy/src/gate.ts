/**
 * Admits at most `limit` round trips to one upstream at once; the others wait their turn, in
 * order. It sits in front of undici's Pool (whose `connections` is the same limit) because the
 * Pool keeps a queued request until a connection frees, even after its client left: here a waiter
 * whose signal aborts leaves the queue at once, so waiting requests stay bounded by live clients.
 */
export class Gate {
  #busy = 0;
  readonly #waiting = new Set<() => void>();

  constructor(readonly limit: number) {}

  /** Resolves true once admitted (call `release()` after), false if `signal` aborted first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.#busy < this.limit) {
      this.#busy++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const admit = () => {
        signal.removeEventListener('abort', leave);
        resolve(true);
      };
      const leave = () => {
        this.#waiting.delete(admit);
        resolve(false);
      };
      this.#waiting.add(admit);
      signal.addEventListener('abort', leave, { once: true });
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
