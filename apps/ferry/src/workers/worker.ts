import { ConfigError, loadConfig, type FerryApp, type Logger, type Registry, type Services } from '@ferry/core';
import { RelayBroker } from '@ferry/sse';
import { ipcClusterMetrics, reportMetricsToPrimary } from './cluster-metrics.js';
import { isMessage, type FromWorker } from './messages.js';
import { ipcRelayTransport } from './sse-relay.js';

/** Resolves once the message is written (a process.exit right after a send would lose it). */
const send = (m: FromWorker) =>
  new Promise<void>((resolve) => {
    // The channel may be gone already (the primary died): nothing to tell then.
    if (!process.connected) return resolve();
    process.send!(m, undefined, {}, () => resolve());
  });

/**
 * What a worker's modules get from ferry (`ctx.service`): the group's metrics and the SSE relay,
 * both through the primary, and what the primary's own load had (`fromFile`: the config file).
 */
const workerServices = (fromFile: Services): Services => ({
  ...fromFile,
  'metrics.cluster': ipcClusterMetrics,
  'sse.broker': () => new RelayBroker(ipcRelayTransport),
});

const describe = (err: unknown) =>
  err instanceof ConfigError ? { error: err.message, issues: [...err.issues] } : { error: (err as Error).message ?? String(err) };

/**
 * One worker of `ferry run --workers N`: serves the config the primary sends, reloads when told,
 * stops when told. `fromFile`: the services of a config read from a file (its path, which the
 * worker's command line names as the primary's does). Listeners are shared through node:cluster,
 * so every worker binds the same addresses. Messages of other types (`ferry.sse.*`, …) are left
 * to whoever listens for them on `process`. Ends the process itself: the IPC channel would keep
 * it alive.
 */
export async function runWorker(registry: Registry, logger: Logger, fromFile: Services = {}): Promise<never> {
  const services = workerServices(fromFile);
  let app: FerryApp | undefined;
  let stopping: Promise<never> | undefined;

  const stop = (why: string) => {
    stopping ??= (async () => {
      logger.info({ why }, 'stopping');
      let code = 0;
      try {
        await app?.stop();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
        code = 1;
      }
      process.exit(code);
    })();
    return stopping;
  };

  const start = async (config: unknown) => {
    try {
      app = await loadConfig(config, { registry, logger, services });
      await app.start();
      // The registry outlives reloads: the primary sums it with the others' for `/metrics`.
      reportMetricsToPrimary(app.options.metrics!);
    } catch (err) {
      // The primary validated this config; what fails here is mostly a listener (a port in use).
      await send({ type: 'ferry.w.failed', ...describe(err) });
      process.exit(1);
    }
    void send({ type: 'ferry.w.listening' });
  };

  const reload = async (id: number, config: unknown) => {
    try {
      if (!app || stopping) throw new Error('the worker is not serving');
      await app.reload(config);
      void send({ type: 'ferry.w.reloaded', id });
    } catch (err) {
      void send({ type: 'ferry.w.reload-failed', id, ...describe(err) });
    }
  };

  process.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.type === 'ferry.w.start' && !app && !stopping) void start(m.config);
    else if (m.type === 'ferry.w.reload') void reload(m.id as number, m.config);
    else if (m.type === 'ferry.w.stop') void stop('asked by the primary');
  });
  // Ctrl-C in a terminal signals the whole process group: the primary handles it and tells us.
  process.on('SIGINT', () => {});
  // SIGTERM to this worker alone stops it gracefully (and the primary starts a replacement).
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // If the primary dies, node:cluster exits this worker at once (an unexpected 'disconnect'):
  // a worker never outlives its primary.
  void send({ type: 'ferry.w.ready' });
  return new Promise<never>(() => {});
}
