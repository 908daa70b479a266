import type { WorkerMessage } from './messages.js';

/**
 * True in a worker process forked by `ferry run --workers N` (the pool sets `FERRY_WORKER` to its
 * slot), whose primary answers its requests; false in other cluster workers (pm2 has them too).
 */
export function isFerryWorker(): boolean {
  return process.env.FERRY_WORKER !== undefined && typeof process.send === 'function';
}

/** The primary of `ferry run --workers N` could not be asked: gone, or no answer in time. */
export class PrimaryUnavailableError extends Error {
  override name = 'PrimaryUnavailableError';
}

interface Waiting {
  resolve: (reply: WorkerMessage) => void;
  timer: NodeJS.Timeout;
}

const waiting = new Map<number, Waiting>();
let lastRid = 0;
let listening = false;

function onReply(m: unknown): void {
  const r = m as WorkerMessage | undefined;
  if (r?.type !== 'ferry.reply' || typeof r.rid !== 'number') return;
  const w = waiting.get(r.rid);
  if (!w) return;
  waiting.delete(r.rid);
  clearTimeout(w.timer);
  w.resolve(r);
}

/**
 * Sends `request` to the primary (from a ferry worker) with a fresh `rid`, and resolves with its
 * answer, `{ type: 'ferry.reply', rid, … }`. Rejects with PrimaryUnavailableError when the channel
 * is gone or nothing came back within `timeoutMs`. The services a worker provides its modules
 * (cluster-metrics.ts, sse-relay.ts) ask through it.
 */
export function askPrimary(request: WorkerMessage, timeoutMs: number): Promise<WorkerMessage> {
  if (typeof process.send !== 'function' || !process.connected)
    return Promise.reject(new PrimaryUnavailableError('the primary process is gone'));
  if (!listening) {
    listening = true;
    process.on('message', onReply);
  }
  const rid = ++lastRid;
  return new Promise<WorkerMessage>((resolve, reject) => {
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
