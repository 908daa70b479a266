import cluster, { type Worker } from 'node:cluster';
import { Counter, Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { ConfigError, loadConfig, type ConfigIssue, type Logger, type MetricsSnapshot, type Registry } from '@ferry/core';
import type { AdminTarget } from '@ferry/core/internal';
import { aggregateMetrics } from './cluster-metrics.js';
import { isMessage, isPoolMessage, type FromWorker, type ToWorker, type WorkerMessage } from './messages.js';

export interface WorkerPoolOptions {
  /** How many worker processes; 2 or more (one is `ferry run` without a pool). */
  workers: number;
  /** The config to start with, already validated by the caller (JSON). */
  config: unknown;
  /** The modules, plugins included: the primary validates every reload with them before a worker sees it. */
  registry: Registry;
  logger: Logger;
  /** The `ferry` arguments the workers run with (the command and `--plugin`s matter). */
  args: readonly string[];
  /** The primary's own metrics (`ferry_workers`, `ferry_worker_restarts_total`), summed in with the workers'. */
  metrics: MetricsRegistry;
  /** How long `metrics()` waits for a worker's numbers; default 3 s. */
  metricsTimeout?: number;
}

/** Who sent a message: the worker's slot (1…N, kept by its replacements) and its process. */
export interface WorkerInfo {
  slot: number;
  pid: number | undefined;
  worker: Worker;
}

/** Receives worker messages the pool does not handle itself. */
export type WorkerMessageHandler = (message: WorkerMessage, from: WorkerInfo) => void;

/** A worker that ran this long before dying was healthy: its replacement starts without delay. */
const STABLE_MS = 10_000;
/** Replacements of workers that keep dying young wait 250 ms, 500 ms, 1 s, … up to this. */
const MAX_BACKOFF_MS = 5_000;

class WorkerFailure extends Error {
  constructor(
    message: string,
    readonly issues?: readonly ConfigIssue[],
  ) {
    super(message);
  }
}

interface Slot {
  worker: Worker;
  pid: number | undefined;
  startedAt: number;
  /** Set once it listens: only then does it take part in reloads. */
  serving: boolean;
  /** Replacements of this slot that died young in a row. */
  streak: number;
}

/** Resolves when the worker's process has exited; never rejects. */
const exited = (worker: Worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve()));

const exitText = (code: number | null, signal: string | null) => (signal ? `signal ${signal}` : `code ${code}`);

/**
 * Resolves with what `pick` makes of the first of the worker's messages it accepts (returns
 * something for), and rejects once the worker is gone without one. "Gone" is its IPC channel
 * closing, not its exit: 'exit' may come before the last messages have been read from the
 * channel (a worker says why it failed, then exits), 'disconnect' comes after them. Aborting
 * `signal` stops the wait: rejects with its reason.
 */
function answer<T>(worker: Worker, pick: (m: WorkerMessage) => T | undefined, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!isMessage(m)) return;
      const picked = pick(m);
      if (picked === undefined) return;
      done();
      resolve(picked);
    };
    const gone = () => {
      done();
      const { exitCode, signalCode } = worker.process;
      if (exitCode !== null || signalCode !== null) return reject(new WorkerFailure(`exited (${exitText(exitCode, signalCode)})`));
      worker.once('exit', (code: number | null, signal: string | null) => reject(new WorkerFailure(`exited (${exitText(code, signal)})`)));
    };
    const aborted = () => {
      done();
      reject(signal!.reason);
    };
    const done = () => {
      worker.off('message', onMessage);
      worker.off('disconnect', gone);
      signal?.removeEventListener('abort', aborted);
    };
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', aborted, { once: true });
    worker.on('message', onMessage);
    if (!worker.isConnected()) return gone();
    worker.once('disconnect', gone);
  });
}

/**
 * The primary process of `ferry run --workers N`: forks N workers (node:cluster) that share the
 * config's listeners, and stands for all of them toward the admin API. It serves no listener
 * itself. A reload is validated here, then sent to every worker; it counts only when all have
 * taken it — otherwise those that had go back to the previous config. A worker that exits
 * unasked is replaced (backing off when replacements keep dying young), with the current config.
 *
 * Extension point: worker messages whose `type` is not the pool's own (`ferry.w.*`) — such as
 * `ferry.sse.*`, the SSE relay between workers — go to the handlers added with
 * `onWorkerMessage`; `broadcast` sends to the workers.
 */
export class WorkerPool implements AdminTarget {
  readonly #o: WorkerPoolOptions;
  #config: unknown;
  readonly #slots = new Map<number, Slot>();
  readonly #handlers = new Set<WorkerMessageHandler>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #running = false;
  #stopping: Promise<void> | undefined;
  #reloadId = 0;
  #collectId = 0;
  readonly #restarts: Counter;
  /** Reloads and replacements, one at a time: a replacement always starts with the config that is current. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: WorkerPoolOptions) {
    this.#o = options;
    this.#config = structuredClone(options.config);
    const registers = [options.metrics];
    const slots = this.#slots;
    new Gauge({
      name: 'ferry_workers',
      help: 'Worker processes serving (ferry run --workers)',
      registers,
      collect() {
        this.set([...slots.values()].filter((s) => s.serving && !s.worker.isDead()).length);
      },
    });
    this.#restarts = new Counter({ name: 'ferry_worker_restarts_total', help: 'Workers that exited unasked and were replaced', registers });
  }

  /** The running config (a copy). */
  get config(): unknown {
    return structuredClone(this.#config);
  }

  /** The live workers' process ids, by slot. */
  get pids(): number[] {
    return [...this.#slots.values()].flatMap((s) => (s.pid === undefined || s.worker.isDead() ? [] : [s.pid]));
  }

  /**
   * The metrics of every serving worker and the primary's own, summed (counters and histograms
   * by label set; gauges too, unless a metric names another aggregator). A worker that exits
   * meanwhile is left out; one that does not answer in time fails the whole collection — a sum
   * without it would look like counters going back.
   */
  async metrics(): Promise<MetricsRegistry> {
    const timeout = this.#o.metricsTimeout ?? 3000;
    const serving = [...this.#slots].filter(([, s]) => s.serving && s.worker.isConnected());
    const snapshots = await Promise.all(
      serving.map(async ([n, s]) => {
        const cid = ++this.#collectId;
        const late = new AbortController();
        const timer = setTimeout(
          () => late.abort(new WorkerFailure(`worker ${n} (pid ${s.pid}) sent no metrics within ${timeout} ms`)),
          timeout,
        );
        const snapshot = answer(s.worker, (m) => (m.type === 'ferry.metrics.snapshot' && m.cid === cid ? m : undefined), late.signal);
        this.#send(s.worker, { type: 'ferry.metrics.collect', cid });
        try {
          const m = await snapshot;
          if (typeof m.error === 'string') throw new WorkerFailure(`worker ${n} (pid ${s.pid}): ${m.error}`);
          return m.metrics as MetricsSnapshot;
        } catch (err) {
          if (s.worker.isDead()) return undefined; // gone: its numbers went with it
          throw err;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const own = (await this.#o.metrics.getMetricsAsJSON()) as MetricsSnapshot;
    return aggregateMetrics([...snapshots.filter((x) => x !== undefined), own]);
  }

  /** Adds a handler for worker messages the pool does not know; returns its removal. */
  onWorkerMessage(handler: WorkerMessageHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Sends `message` to every connected worker, but the one in slot `except`. */
  broadcast(message: WorkerMessage, except?: number): void {
    for (const [n, s] of this.#slots) if (n !== except && s.worker.isConnected()) s.worker.send(message);
  }

  /**
   * Starts every worker and resolves once all listen. If one cannot start (a port in use), every
   * worker is stopped and its error thrown.
   */
  async start(): Promise<void> {
    cluster.setupPrimary({ args: [...this.#o.args] });
    const started = await Promise.allSettled(Array.from({ length: this.#o.workers }, (_, i) => this.#spawn(i + 1)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // One that listened and died while the others were still starting is a failed start too.
    const died = [...this.#slots].find(([, s]) => s.worker.isDead());
    if (failed || died) {
      await this.stop();
      throw failed ? failed.reason : new WorkerFailure(`worker ${died![0]} (pid ${died![1].pid}) exited right after it started`);
    }
    this.#running = true;
    this.#o.logger.info({ workers: this.#o.workers, pids: this.pids }, 'workers listening');
  }

  reload(json: unknown): Promise<void> {
    const run = this.#queue.then(() => this.#reload(json));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Stops every worker gracefully (each lets its requests finish) and resolves when all have exited. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      // Not events.once(): it rejects on the worker's 'error', and a stop message written to a
      // worker that is already going (a failed start) fails with EPIPE — the exit still comes.
      const exits = [...this.#slots.values()].map((s) => (s.worker.isDead() ? undefined : exited(s.worker)));
      for (const s of this.#slots.values()) this.#send(s.worker, { type: 'ferry.w.stop' });
      await Promise.all(exits);
    })();
    return this.#stopping;
  }

  /** Ends every worker at once (a second signal). */
  kill(): void {
    for (const s of this.#slots.values()) if (!s.worker.isDead()) s.worker.process.kill('SIGKILL');
  }

  #send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }

  /** Forks the worker of `slot` and resolves once it listens; rejects if it cannot start. */
  async #spawn(slot: number): Promise<void> {
    const worker = cluster.fork({ FERRY_WORKER: String(slot) });
    const previous = this.#slots.get(slot);
    const entry: Slot = { worker, pid: worker.process.pid, startedAt: Date.now(), serving: false, streak: previous?.streak ?? 0 };
    this.#slots.set(slot, entry);
    // A send to a worker that just died fails here (EPIPE); its 'exit' says the rest.
    worker.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_IPC_CHANNEL_CLOSED')
        this.#o.logger.warn({ err, worker: slot, pid: entry.pid }, 'worker channel error');
    });
    worker.on('message', (m: unknown) => this.#message(slot, entry, m));
    worker.once('exit', (code: number | null, signal: string | null) => this.#exited(slot, entry, code, signal));
    const listening = answer(worker, (m) => {
      const fw = m as FromWorker;
      if (fw.type === 'ferry.w.listening') return { ok: true as const };
      if (fw.type === 'ferry.w.failed') return { ok: false as const, error: fw.error, issues: fw.issues };
      return undefined;
    });
    // Until it answers, no rejection of `listening` may go unhandled.
    listening.catch(() => {});
    let result;
    try {
      await answer(worker, (m) => (m.type === 'ferry.w.ready' ? true : undefined));
      if (this.#stopping) throw new WorkerFailure('stopping');
      this.#send(worker, { type: 'ferry.w.start', config: this.#config });
      result = await listening;
    } catch (err) {
      throw new WorkerFailure(`worker ${slot} (pid ${entry.pid}) ${(err as Error).message} before listening`);
    }
    // The worker's own words: "cannot listen on 127.0.0.1:8080: listen EADDRINUSE …".
    if (!result.ok) throw new WorkerFailure(result.error, result.issues);
    entry.serving = true;
  }

  #message(slot: number, entry: Slot, m: unknown): void {
    if (!isMessage(m) || isPoolMessage(m)) return;
    for (const handle of this.#handlers) {
      try {
        handle(m, { slot, pid: entry.pid, worker: entry.worker });
      } catch (err) {
        this.#o.logger.error({ err, type: m.type, worker: slot }, 'worker message handler failed');
      }
    }
  }

  #exited(slot: number, entry: Slot, code: number | null, signal: string | null): void {
    // While starting, start() reports failures; while stopping, exits are expected.
    if (!this.#running || this.#stopping) return;
    const lived = Date.now() - entry.startedAt;
    const streak = lived >= STABLE_MS ? 0 : entry.streak + 1;
    const delay = streak <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (streak - 2));
    entry.streak = streak;
    this.#restarts.inc();
    this.#o.logger.error(
      { worker: slot, pid: entry.pid, code, signal, restartInMs: delay },
      `worker ${slot} (pid ${entry.pid}) exited unexpectedly (${exitText(code, signal)}); starting a replacement`,
    );
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const run = this.#queue.then(() => this.#replace(slot));
      this.#queue = run.catch(() => {});
    }, delay);
    this.#timers.add(timer);
  }

  async #replace(slot: number): Promise<void> {
    if (this.#stopping) return;
    try {
      await this.#spawn(slot);
      this.#o.logger.info({ worker: slot, pid: this.#slots.get(slot)?.pid }, `worker ${slot} replaced`);
    } catch (err) {
      // Its exit schedules the next attempt (later, if this keeps happening).
      this.#o.logger.error({ worker: slot, err: (err as Error).message }, `replacement for worker ${slot} did not start`);
    }
  }

  /** Sends `config` to the worker and resolves when it has loaded it; rejects with its reason. */
  async #reloadOne(slot: number, s: Slot, config: unknown): Promise<void> {
    const id = ++this.#reloadId;
    const answered = answer(s.worker, (m) => {
      const fw = m as FromWorker;
      if (fw.type === 'ferry.w.reloaded' && fw.id === id) return { ok: true as const };
      if (fw.type === 'ferry.w.reload-failed' && fw.id === id) return { ok: false as const, error: fw.error, issues: fw.issues };
      return undefined;
    });
    this.#send(s.worker, { type: 'ferry.w.reload', id, config });
    let result;
    try {
      result = await answered;
    } catch (err) {
      throw new WorkerFailure(`worker ${slot} (pid ${s.pid}) ${(err as Error).message} during the reload`);
    }
    if (!result.ok) throw new WorkerFailure(`worker ${slot} (pid ${s.pid}): ${result.error}`, result.issues);
  }

  async #reload(json: unknown): Promise<void> {
    if (this.#stopping) throw new Error('ferry is stopping');
    // Validated here first: a config with problems reaches no worker (ConfigError, JSON paths).
    const check = await loadConfig(json, { registry: this.#o.registry, logger: this.#o.logger });
    await check.stop(0);
    const serving = [...this.#slots].filter(([, s]) => s.serving && !s.worker.isDead());
    const results = await Promise.allSettled(serving.map(([n, s]) => this.#reloadOne(n, s, json)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) {
      this.#config = structuredClone(json);
      return;
    }
    // All or nothing: the workers that took the new config go back to the one that still runs.
    await Promise.all(
      serving.map(async ([n, s], i) => {
        if (results[i]!.status !== 'fulfilled') return;
        try {
          await this.#reloadOne(n, s, this.#config);
        } catch (err) {
          this.#o.logger.error({ err: (err as Error).message, worker: n }, 'could not restore the previous config on a worker');
        }
      }),
    );
    const reason = failed.reason as WorkerFailure;
    if (reason.issues?.length) throw new ConfigError([...reason.issues]);
    throw reason;
  }
}
