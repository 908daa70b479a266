import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { coreModules, loadConfig, Registry, silentLogger } from '@ferry/core';
import {
  BrokerUnavailableError,
  formatEvent,
  Relay,
  RelayBroker,
  sseModule,
  ssePublishModule,
  type RelayAnnounce,
  type RelayRequest,
  type RelayTransport,
} from '../src/index.js';
import { defer, EventSourceClient } from './helpers.js';

/**
 * The relay's side of `--workers` without a broker, driven with the messages a RelayBroker sends
 * (ferry's IPC transport is covered by test/scale/sse-workers.test.ts).
 */
function relay(options?: ConstructorParameters<typeof Relay>[0]) {
  const r = new Relay(options);
  const ask = (m: RelayRequest): unknown => {
    let answer: unknown;
    const handled = r.handle(
      m,
      (reply) => (answer = reply),
      () => {},
    );
    expect(handled).toBe(true);
    return answer;
  };
  return {
    publish: (topic: string, data: string, historyBytes?: number) =>
      ask({ type: 'ferry.sse.publish', topic, ev: { data }, history: 100, ...(historyBytes !== undefined ? { historyBytes } : {}) }),
    kept: (topic: string) => {
      const { replay } = ask({ type: 'ferry.sse.since', topic, lastEventId: 'none' }) as { replay: { events: { id: string }[] } };
      return replay.events.map((e) => e.id);
    },
  };
}

/** A host's transport within one process: every instance reaches `relay` directly; `connected` can be switched off. */
function memoryTransports(relay: Relay) {
  const listeners = new Set<(a: RelayAnnounce) => void>();
  const state = { connected: true };
  const transport: RelayTransport = {
    kind: 'memory',
    get connected() {
      return state.connected;
    },
    async ask(request) {
      if (!state.connected) throw new BrokerUnavailableError('the relay is away');
      let answer: unknown;
      relay.handle(
        request,
        (reply) => (answer = reply),
        (a) => {
          for (const l of listeners) l(a);
        },
      );
      return answer as Awaited<ReturnType<RelayTransport['ask']>>;
    },
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { transport, state };
}

const data1k = 'x'.repeat(1000);
const size = Buffer.byteLength(formatEvent({ id: '1', data: data1k }));

describe('the relay (the primary of --workers) keeps a bounded history', () => {
  it("per topic, at most the bytes the publishing worker's hub keeps, dropping the oldest first", () => {
    const r = relay();
    for (let i = 0; i < 5; i++) r.publish('a', data1k, 2 * size);
    expect(r.kept('a')).toEqual(['4', '5']);
  });

  it('over all topics, at most maxHistoryBytes: the topic published to least recently loses its oldest events first', () => {
    const r = relay({ maxHistoryBytes: 3 * size });
    r.publish('a', data1k);
    r.publish('a', data1k);
    r.publish('b', data1k);
    r.publish('c', data1k);
    expect([r.kept('a'), r.kept('b'), r.kept('c')]).toEqual([['2'], ['1'], ['1']]);
    r.publish('c', data1k);
    expect([r.kept('a'), r.kept('b'), r.kept('c')]).toEqual([[], ['1'], ['1', '2']]);
  });

  it('400 publishes of 1 MiB to distinct topics keep no more than 64 MiB by default', () => {
    const r = relay();
    const big = 'y'.repeat(1024 * 1024);
    for (let i = 0; i < 400; i++) r.publish(`t${i}`, big);
    let kept = 0;
    for (let i = 0; i < 400; i++) kept += r.kept(`t${i}`).length;
    expect(kept).toBeLessThanOrEqual(64);
    expect(r.kept('t399')).toEqual(['1']);
  });
});

describe('instances whose host provides a RelayBroker (the sse.broker service) share topics', () => {
  const registry = new Registry([...coreModules, sseModule, ssePublishModule]);
  const routes = [
    { match: [{ path: ['/sub/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s' }] },
    { match: [{ path: ['/pub/*'] }], handle: [{ handler: 'sse_publish', topic: '{http.request.uri.path.1}' }] },
  ];
  const config = { apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes } } } } };

  async function instance(transport: RelayTransport): Promise<string> {
    const services = { 'sse.broker': () => new RelayBroker(transport) };
    const app = await loadConfig(config, { registry, logger: silentLogger(), services });
    await app.start();
    defer(() => app.stop(0));
    return app.servers[0]!.url;
  }

  const publish = async (url: string, body: string) => {
    const res = await request(url, { method: 'POST', body });
    return { status: res.statusCode, body: (await res.body.json()) as { id: string; stored: boolean } };
  };

  it("a publish on one reaches the other's subscribers, with the relay's ids, and replays from either", async () => {
    const { transport } = memoryTransports(new Relay());
    const [a, b] = [await instance(transport), await instance(transport)];
    const sub = new EventSourceClient(`${a}/sub/news`);
    await sub.connect();
    expect(await publish(`${b}/pub/news`, 'one')).toEqual({ status: 202, body: { id: '1', stored: true } });
    expect(await publish(`${a}/pub/news`, 'two')).toEqual({ status: 202, body: { id: '2', stored: true } });
    expect(await sub.take(2)).toEqual([
      { type: 'message', data: 'one', lastEventId: '1' },
      { type: 'message', data: 'two', lastEventId: '2' },
    ]);
    const late = new EventSourceClient(`${b}/sub/news`, { headers: { 'last-event-id': '1' } });
    await late.connect();
    expect(await late.next()).toEqual({ type: 'message', data: 'two', lastEventId: '2' });
  });

  it('while the relay is away, a publish reaches this instance only, not stored', async () => {
    const { transport, state } = memoryTransports(new Relay());
    const url = await instance(transport);
    const sub = new EventSourceClient(`${url}/sub/away`);
    await sub.connect();
    state.connected = false;
    const res = await publish(`${url}/pub/away`, 'local');
    expect(res.status).toBe(202);
    expect(res.body.stored).toBe(false);
    expect((await sub.next()).data).toBe('local');
  });
});
