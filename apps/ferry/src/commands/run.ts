import { availableParallelism } from 'node:os';
import { Registry as MetricsRegistry } from 'prom-client';
import { createLogger, readConfigFile, type FerryApp } from '@ferry/core';
import { DEMO_HOST, defaultConfig, demoBanner, demoHostProblem } from '../default-config.js';
import { serve, type Running } from '../serve.js';
import { serveClusterMetrics } from '../workers/cluster-metrics.js';
import { isFerryWorker } from '../workers/ipc.js';
import { WorkerPool, type WorkerPoolOptions } from '../workers/primary.js';
import { serveRelay } from '../workers/sse-relay.js';
import { runWorker } from '../workers/worker.js';
import type { Command, Flags } from './args.js';
import { fileServices, loadApp, registryWith } from './load.js';

/**
 * `ferry run`: serves the config (the embedded default without `--config`) until a signal or the
 * admin API's /stop, in this process or, with `--workers N`, in N worker processes. In a worker
 * of its own it serves what the primary sends instead.
 */
export const run: Command = async ({ flags, argv, out }) => {
  const workers = workerCount(flags.workers);
  const problem = typeof workers === 'string' ? workers : hostProblem(flags);
  if (typeof workers === 'string' || problem) {
    process.stderr.write(`ferry run: ${problem}\n`);
    return 2;
  }
  const registry = await registryWith(flags.plugin);
  if (!registry) return 1;
  if (isFerryWorker()) {
    // A worker of `ferry run --workers N`: the primary sends the config (and every reload).
    const logger = createLogger().child({ worker: Number(process.env.FERRY_WORKER), pid: process.pid });
    return runWorker(registry, logger, fileServices(flags.config));
  }
  if (flags['print-default-config']) {
    out(`${JSON.stringify(defaultConfig(flags.host), null, 2)}\n`);
    return 0;
  }
  const logger = createLogger();
  const file = flags.config;
  const loaded = await loadApp(() => (file ? readConfigFile(file) : defaultConfig(flags.host)), registry, logger, fileServices(file));
  if (!loaded) return 1;
  const running =
    workers === 1 ? await start(loaded.app) : await startPool(loaded.app, { workers, config: loaded.json, registry, logger, args: argv });
  if (typeof running === 'number') return running;
  if (!file) process.stderr.write(`ferry: ${demoBanner(flags.host ?? DEMO_HOST)}\n`);
  return serve(running, loaded.json, logger);
};

/** What is wrong with `--host`, checked before anything loads. */
function hostProblem(flags: Flags): string | undefined {
  if (flags.host === undefined) return undefined;
  return flags.config
    ? `--host applies to the embedded default only; set the listen addresses in ${flags.config}`
    : demoHostProblem(flags.host);
}

/** `--workers N` (or `$FERRY_WORKERS`): a count ≥ 1, or `auto` for one per core; a string says what is wrong. */
export function workerCount(flag: string | undefined, env = process.env.FERRY_WORKERS): number | string {
  const [value, source] = flag !== undefined ? [flag, '--workers'] : env !== undefined && env !== '' ? [env, 'FERRY_WORKERS'] : ['1', ''];
  if (value === 'auto') return availableParallelism();
  if (/^[1-9]\d{0,3}$/.test(value)) return Number(value);
  return `${source} must be a whole number from 1 to 9999, or "auto" (one worker per core); got "${value}"`;
}

/** Serves `app` in this process; the exit code when it cannot listen. */
async function start(app: FerryApp): Promise<Running | number> {
  try {
    await app.start();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
  return { target: app, stopNow: () => app.stop(0), exitNow: () => process.exit(1) };
}

/**
 * `--workers N`: this process only checked the config (`app`, stopped here); the workers serve it.
 * The exit code when they cannot start.
 */
async function startPool(app: FerryApp, options: Omit<WorkerPoolOptions, 'metrics'>): Promise<Running | number> {
  await app.stop(0);
  const pool = new WorkerPool({ ...options, metrics: new MetricsRegistry() });
  // What the workers' modules ask of the primary (worker messages outside `ferry.w.*`, see
  // WorkerPool.onWorkerMessage): the summed metrics (`ferry.metrics.*`) and the SSE relay
  // (`ferry.sse.*`), by which topics without a broker are shared by every worker.
  serveClusterMetrics(pool);
  serveRelay(pool);
  try {
    await pool.start();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 1;
  }
  return {
    target: pool,
    stopNow: () => pool.stop(),
    exitNow: () => {
      pool.kill();
      process.exit(1);
    },
  };
}
