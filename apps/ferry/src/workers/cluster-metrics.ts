import { AggregatorRegistry, type Registry as MetricsRegistry } from 'prom-client';
import type { ClusterMetrics, MetricsSnapshot } from '@ferry/core';
import { askPrimary, PrimaryUnavailableError } from './ipc.js';
import { isMessage, type WorkerMessage } from './messages.js';
import type { WorkerPool } from './primary.js';

/**
 * The metrics of `ferry run --workers N` as one: every worker's registry and the primary's own,
 * summed by the primary — what `/metrics` answers (the `metrics.cluster` service), so a counter
 * does not jump between the numbers of whichever worker took the scrape. A worker asks with
 * `ferry.metrics.get`; the primary collects each worker's numbers with `ferry.metrics.collect`.
 */

/** How long a worker waits for the sum unless the module says otherwise. */
const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Several processes' metrics as one registry (prom-client's cluster aggregation): counters and
 * histograms are summed by label set, gauges too unless the metric names another aggregator
 * (`aggregator: 'min'`, …). Read it with `.metrics()` (text) or `.getMetricsAsJSON()`.
 */
export function aggregateMetrics(snapshots: readonly MetricsSnapshot[]): MetricsRegistry {
  return AggregatorRegistry.aggregate(snapshots as MetricsSnapshot[]);
}

async function ask(format: 'text' | 'json', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
  const reply = await askPrimary({ type: 'ferry.metrics.get', format }, timeoutMs);
  const result = format === 'json' ? reply.metrics : reply.text;
  if (result === undefined) throw new PrimaryUnavailableError(String(reply.error ?? 'the primary did not send metrics'));
  return result;
}

/** A worker's `metrics.cluster` service: the sum, asked of the primary. */
export const ipcClusterMetrics: ClusterMetrics = {
  text: async (timeoutMs) => (await ask('text', timeoutMs)) as string,
  json: async (timeoutMs) => (await ask('json', timeoutMs)) as MetricsSnapshot,
};

/** The registries this worker reports when its primary collects (one per app; usually one). */
const reported = new Set<MetricsRegistry>();
let answering = false;

const send = (m: WorkerMessage) => {
  // The primary may be gone meanwhile: nothing to answer then.
  if (process.connected) process.send!(m, undefined, undefined, () => {});
};

/**
 * In a worker: answers the primary's `ferry.metrics.collect` (`cid`) with this process's metrics
 * (`ferry.metrics.snapshot`, same `cid`), those of `registry` (and of any other registry given
 * before). Returns the removal.
 */
export function reportMetricsToPrimary(registry: MetricsRegistry): () => void {
  reported.add(registry);
  if (!answering) {
    answering = true;
    process.on('message', (m: unknown) => {
      if (!isMessage(m) || m.type !== 'ferry.metrics.collect') return;
      void Promise.all([...reported].map((reg) => reg.getMetricsAsJSON())).then(
        (all) => send({ type: 'ferry.metrics.snapshot', cid: m.cid, metrics: all.flat() }),
        (err: Error) => send({ type: 'ferry.metrics.snapshot', cid: m.cid, error: err.message }),
      );
    });
  }
  return () => reported.delete(registry);
}

/** The primary's side: answers a worker's `ferry.metrics.get` with the pool's sum, as text or JSON. */
export function serveClusterMetrics(pool: WorkerPool): void {
  pool.onWorkerMessage((m, from) => {
    if (m.type !== 'ferry.metrics.get') return;
    const reply = (fields: Record<string, unknown>) =>
      from.worker.isConnected() && from.worker.send({ type: 'ferry.reply', rid: m.rid, ...fields });
    const answer = async (): Promise<Record<string, unknown>> => {
      const sum = await pool.metrics();
      return m.format === 'json' ? { metrics: await sum.getMetricsAsJSON() } : { text: await sum.metrics() };
    };
    void answer().then(reply, (err: Error) => reply({ error: err.message }));
  });
}
