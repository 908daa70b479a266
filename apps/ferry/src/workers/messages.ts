import type { ConfigIssue } from '@ferry/core';

/**
 * What the primary and its workers say to each other over the cluster IPC channel (`ferry run
 * --workers N`). Every message is an object with a `type`; the pool's own start with `ferry.w.`.
 * Other types are free for other uses — `ferry.sse.*` is the SSE relay between workers — and
 * both sides pass what they do not know on rather than fail (see `WorkerPool.onWorkerMessage`).
 */
export type ToWorker =
  /** The config to start with (after the worker said `ferry.w.ready`). */
  | { type: 'ferry.w.start'; config: unknown }
  /** Load this config; answer `ferry.w.reloaded` or `ferry.w.reload-failed` with the same `id`. */
  | { type: 'ferry.w.reload'; id: number; config: unknown }
  /** Stop gracefully, then exit 0. */
  | { type: 'ferry.w.stop' }
  /** Send this process's metrics: `ferry.metrics.snapshot` with the same `cid` (see cluster-metrics.ts). */
  | { type: 'ferry.metrics.collect'; cid: number };

export type FromWorker =
  /** Plugins loaded and listening for the primary: send the config. */
  | { type: 'ferry.w.ready' }
  /** Every server listens. */
  | { type: 'ferry.w.listening' }
  /** The start failed (the worker exits 1 next). `issues` when the config did not validate here. */
  | { type: 'ferry.w.failed'; error: string; issues?: ConfigIssue[] }
  | { type: 'ferry.w.reloaded'; id: number }
  | { type: 'ferry.w.reload-failed'; id: number; error: string; issues?: ConfigIssue[] };

/** Any message on the channel: ours, or someone else's (`ferry.sse.*`, …). */
export interface WorkerMessage {
  type: string;
  [field: string]: unknown;
}

export const isMessage = (m: unknown): m is WorkerMessage =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';

/** The pool's own messages; everything else is passed on. */
export const isPoolMessage = (m: WorkerMessage): boolean => m.type.startsWith('ferry.w.');
