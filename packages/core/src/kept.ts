interface Entry {
  value: unknown;
  holders: number;
  dispose: ((value: never) => void | Promise<void>) | undefined;
}

/**
 * State that outlives config reloads (`ctx.keep`): made by the first module that asks for a key,
 * handed to every later one — the next config's included, since a reload provisions the new
 * config before the old one is cleaned up — and disposed once no module holds it any more (the
 * config that last used it was replaced and drained, or stopped). One per running app: a
 * FerryApp hands its own to every reload.
 */
export class KeptState {
  readonly #entries = new Map<string, Entry>();

  /** The value for `key` (made by `create` if nobody holds one), and its release. */
  acquire<T>(key: string, create: () => T, dispose?: (value: T) => void | Promise<void>): { value: T; release: () => Promise<void> } {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { value: create(), holders: 0, dispose: dispose as Entry['dispose'] };
      this.#entries.set(key, entry);
    }
    entry.holders++;
    const held = entry;
    let released = false;
    return {
      value: held.value as T,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.holders > 0 || this.#entries.get(key) !== held) return;
        this.#entries.delete(key);
        await held.dispose?.(held.value as never);
      },
    };
  }

  /** Keys held now (for tests and diagnostics). */
  keys(): string[] {
    return [...this.#entries.keys()];
  }
}
