import { AggregatorRegistry, type Registry as MetricsRegistry } from 'prom-client';
import type { MetricsSnapshot } from './services.js';

/**
 * True in a worker process forked by `ferry run --workers N`, whose primary relays messages for
 * modules (the SSE hub uses it); false in other cluster workers (pm2 has them too).
 */
export function isFerryWorker(): boolean {
  return process.env.FERRY_WORKER !== undefined && typeof process.send === 'function';
}

/** The primary of `ferry run --workers N` could not be asked: gone, or no answer in time. */
export class PrimaryUnavailableError extends Error {
  override name = 'PrimaryUnavailableError';
}

/**
 * A message between a ferry worker and its primary: an object with a `type`. Requests carry a
 * `rid`; their answer is `{ type: 'ferry.reply', rid, … }`.
 */
export interface IpcMessage {
  type: string;
  [field: string]: unknown;
}

interface Waiting {
  resolve: (reply: IpcMessage) => void;
  timer: NodeJS.Timeout;
}

const waiting = new Map<number, Waiting>();
let lastRid = 0;
let listening = false;

function onReply(m: unknown): void {
  const r = m as IpcMessage | undefined;
  if (r?.type !== 'ferry.reply' || typeof r.rid !== 'number') return;
  const w = waiting.get(r.rid);
  if (!w) return;
  waiting.delete(r.rid);
  clearTimeout(w.timer);
  w.resolve(r);
}

/**
 * Sends `request` to the primary (from a ferry worker) and resolves with its `ferry.reply`.
 * Rejects with PrimaryUnavailableError when the channel is gone or nothing came back within
 * `timeoutMs`. The primary's side answers with `{ type: 'ferry.reply', rid: request.rid, … }`.
 */
export function askPrimary(request: IpcMessage, timeoutMs: number): Promise<IpcMessage> {
  if (typeof process.send !== 'function' || !process.connected)
    return Promise.reject(new PrimaryUnavailableError('the primary process is gone'));
  if (!listening) {
    listening = true;
    process.on('message', onReply);
  }
  const rid = ++lastRid;
  return new Promise<IpcMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(rid);
      reject(new PrimaryUnavailableError(`no answer from the primary process within ${timeoutMs} ms`));
    }, timeoutMs);
    waiting.set(rid, { resolve, timer });
    process.send!({ ...request, rid }, undefined, undefined, (err) => {
      if (!err) return;
      clearTimeout(timer);
      waiting.delete(rid);
      reject(new PrimaryUnavailableError(`cannot reach the primary process: ${err.message}`));
    });
  });
}

/**
 * Several processes' metrics as one registry (prom-client's cluster aggregation): counters and
 * histograms are summed by label set, gauges too unless the metric names another aggregator
 * (`aggregator: 'min'`, …). Read it with `.metrics()` (text) or `.getMetricsAsJSON()`.
 */
export function aggregateMetrics(snapshots: readonly MetricsSnapshot[]): MetricsRegistry {
  return AggregatorRegistry.aggregate(snapshots as MetricsSnapshot[]);
}

/** The registries a ferry worker reports when its primary collects (one per app; usually one). */
const reported = new Set<MetricsRegistry>();
let answering = false;

/**
 * In a ferry worker: answers the primary's `ferry.metrics.collect` (`cid`) with this process's
 * metrics (`ferry.metrics.snapshot`, same `cid`),
 * those of `registry` (and of any other registry given before). Returns the removal.
 */
export function reportMetricsToPrimary(registry: MetricsRegistry): () => void {
  reported.add(registry);
  if (!answering && isFerryWorker()) {
    answering = true;
    process.on('message', (m: unknown) => {
      const r = m as IpcMessage | undefined;
      if (r?.type !== 'ferry.metrics.collect') return;
      void Promise.all([...reported].map((reg) => reg.getMetricsAsJSON())).then(
        (all) => send({ type: 'ferry.metrics.snapshot', cid: r.cid, metrics: all.flat() }),
        (err: Error) => send({ type: 'ferry.metrics.snapshot', cid: r.cid, error: err.message }),
      );
    });
  }
  return () => reported.delete(registry);
}

const send = (m: IpcMessage) => {
  // The primary may be gone meanwhile: nothing to answer then.
  if (process.connected) process.send!(m, undefined, undefined, () => {});
};

/**
 * In a ferry worker: the metrics of every worker (and the primary's own), summed by the primary
 * — what `/metrics` answers under `--workers`, so a counter does not jump between the numbers of
 * whichever worker took the scrape. `json`: as `Registry.getMetricsAsJSON()` gives them.
 */
export async function clusterMetrics(timeoutMs?: number): Promise<string>;
export async function clusterMetrics(timeoutMs: number | undefined, format: 'json'): Promise<MetricsSnapshot>;
export async function clusterMetrics(timeoutMs = 5000, format: 'text' | 'json' = 'text'): Promise<string | MetricsSnapshot> {
  const reply = await askPrimary({ type: 'ferry.metrics.get', format }, timeoutMs);
  const result = format === 'json' ? reply.metrics : reply.text;
  if (result === undefined) throw new PrimaryUnavailableError(String(reply.error ?? 'the primary did not send metrics'));
  return result as string | MetricsSnapshot;
}
