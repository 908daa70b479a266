import { BrokerUnavailableError, Relay, type RelayAnnounce, type RelayReply, type RelayTransport } from '@ferry/sse';
import { askPrimary, PrimaryUnavailableError } from './ipc.js';
import { isMessage } from './messages.js';
import type { WorkerPool } from './primary.js';

/**
 * The SSE relay of `ferry run --workers N` over the cluster IPC channel: topics without a broker
 * of their own are shared by every worker, their history kept and their ids given by the
 * primary (@ferry/sse's Relay). A worker's hubs reach it through this transport: the worker
 * provides a RelayBroker over it as the `sse.broker` service.
 */
export const ipcRelayTransport: RelayTransport = {
  kind: 'cluster',
  get connected() {
    return process.connected;
  },
  async ask(request, timeoutMs) {
    try {
      return (await askPrimary(request, timeoutMs)) as unknown as RelayReply;
    } catch (err) {
      // Treated as a broker outage: the hub delivers locally meanwhile.
      if (err instanceof PrimaryUnavailableError) throw new BrokerUnavailableError(err.message);
      throw err;
    }
  },
  listen(listener) {
    const onMessage = (m: unknown) => {
      if (isMessage(m) && m.type === 'ferry.sse.event') listener(m as unknown as RelayAnnounce);
    };
    process.on('message', onMessage);
    return () => void process.off('message', onMessage);
  },
};

/**
 * The primary's side: one Relay for every worker, answering their requests (`ferry.reply`, with
 * the request's `rid`) and announcing events to all of them. It lives as long as the pool, so
 * the history outlives reloads and replaced workers.
 */
export function serveRelay(pool: WorkerPool): void {
  const relay = new Relay();
  pool.onWorkerMessage((m, from) => {
    relay.handle(
      m,
      (reply) => from.worker.isConnected() && from.worker.send({ type: 'ferry.reply', rid: m.rid, ...reply }),
      (announce) => pool.broadcast({ ...announce }),
    );
  });
}
