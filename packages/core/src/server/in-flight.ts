/** Requests in flight — of one server, or of one generation — and a way to wait until there are none. */
export class InFlight {
  #count = 0;
  #onEmpty: (() => void) | undefined;

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  /** One request left flight. Bound once: every request shares it, no closure per request. */
  readonly leave = (): void => {
    if (--this.#count === 0) this.#onEmpty?.();
  };

  /**
   * Resolves once no request is in flight, or after `within` ms, whichever comes first.
   * `onEmpty` runs each time the count reaches zero from then on (a stop closes the connections
   * that went idle with it).
   */
  async drained(within: number, onEmpty?: () => void): Promise<void> {
    if (this.#count === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, within);
      this.#onEmpty = () => {
        onEmpty?.();
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
