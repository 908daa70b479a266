import { availableParallelism } from 'node:os';

/**
 * Bounds how many whole-body compressions run at once. Each one runs on libuv's threadpool with
 * a compressor context of its own (zstd's is megabytes): started all together under load, they
 * fight over the cores and the caches, and every request waits longer. Measured on Node 24, a
 * 102,602-byte body, zstd level 3, 50 connections, one core: 1,400 req/s unbounded, 2,000 with
 * four at a time, 2,550 with one; gzip is unchanged either way.
 */
export class OneShotQueue {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Runs `job` once fewer than `limit` others are running; settles as it does. */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#active < this.limit) return this.#start(job);
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(() => this.#start(job));
  }

  async #start<T>(job: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await job();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

/** As many as the threadpool runs at once, and no more than the cores this process may use. */
function defaultLimit(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(pool, availableParallelism()));
}

/** The process's queue: every encode handler shares the threadpool, so they share the bound. */
export const oneShotQueue = new OneShotQueue(defaultLimit());
