import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { coreModules, loadConfig, Registry, silentLogger } from '@ferry/core';
import { Channel, formatEvent, HISTORY_GAP_EVENT, Hub, sseModule, ssePublishModule, streamEvents } from '../src/index.js';
import { defer, EventSourceClient, startServer } from './helpers.js';
import { retainedBytes } from '@ferry/test-kit/memory';

const MiB = 1024 * 1024;
/** An event of 1,000 data bytes: 1,015 bytes as sent (`id: N` and `data: …` lines). */
const ev1k = (n: number) => ({ data: `${String(n).padStart(4, '0')}`.padEnd(1000, '.') });
const size = (id: string, n: number) => Buffer.byteLength(formatEvent({ ...ev1k(n), id }));

describe('history byte caps', () => {
  it('a channel keeps at most historyBytes of events, dropping the oldest first', () => {
    const channel = new Channel({ history: 100, historyBytes: 3 * size('10', 10) });
    for (let i = 1; i <= 10; i++) channel.publish(ev1k(i));
    expect(channel.history().map((e) => e.id)).toEqual(['8', '9', '10']);
    expect(channel.keptBytes).toBe(size('8', 8) + size('9', 9) + size('10', 10));
  });

  it('an event larger than historyBytes is not kept, and neither is anything before it: a replay across it reports the gap', async () => {
    const channel = new Channel({ history: 100, historyBytes: 2000 });
    channel.publish({ data: 'small' });
    channel.publish({ data: 'x'.repeat(5000) });
    expect(channel.history()).toEqual([]);
    expect(channel.keptBytes).toBe(0);
    channel.publish({ data: 'after' });

    const server = await startServer({
      handler: streamEvents((s) => void channel.subscribe(s, { lastEventId: s.lastEventId }), { heartbeat: 0 }),
    });
    const client = new EventSourceClient(`${server.url}/`);
    client.lastEventId = '1'; // saw "small", missed the large one
    await client.connect();
    const gap = await client.next();
    expect(gap.type).toBe(HISTORY_GAP_EVENT);
    expect(JSON.parse(gap.data)).toEqual({ lastEventId: '1', oldestId: '3' });
    expect(await client.next()).toEqual({ type: 'message', data: 'after', lastEventId: '3' });
  });

  it('a hub keeps at most maxHistoryBytes over all topics: the topic published to least recently loses its oldest events first', () => {
    const hub = new Hub({ maxHistoryBytes: 5 * size('1', 1) });
    for (let i = 1; i <= 3; i++) hub.publish('t1', ev1k(i));
    hub.publish('t2', ev1k(1));
    hub.publish('t3', ev1k(1));
    expect(hub.keptBytes).toBe(5 * size('1', 1));
    // One more: 6 events where 5 fit. t1 is the least recently published to: its oldest goes.
    hub.publish('t4', ev1k(1));
    expect(
      hub
        .topic('t1')
        .history()
        .map((e) => e.id),
    ).toEqual(['2', '3']);
    for (const t of ['t2', 't3', 't4'])
      expect(
        hub
          .topic(t)
          .history()
          .map((e) => e.id),
      ).toEqual(['1']);
    // t1 again: now t2 is the least recently published to, and it empties first.
    hub.publish('t1', ev1k(4));
    expect(hub.topic('t2').history()).toEqual([]);
    expect(
      hub
        .topic('t1')
        .history()
        .map((e) => e.id),
    ).toEqual(['2', '3', '4']);
    expect(hub.keptBytes).toBeLessThanOrEqual(5 * size('1', 1));
  });

  it('a hub forgets the bytes of a topic it evicts', () => {
    const hub = new Hub({ maxTopics: 2 });
    hub.publish('a', ev1k(1));
    hub.publish('b', ev1k(1));
    hub.publish('c', ev1k(1)); // evicts "a", idle
    expect(hub.topics()).toEqual(['b', 'c']);
    expect(hub.keptBytes).toBe(2 * size('1', 1));
  });

  it("a channel still held after the hub evicted its topic publishes without upsetting the hub's count", () => {
    const hub = new Hub({ maxTopics: 1, maxHistoryBytes: Math.round(1.5 * size('1', 1)) });
    const held = hub.topic('a');
    hub.publish('b', ev1k(1)); // "a" is idle: evicted
    expect(hub.topics()).toEqual(['b']);
    expect(() => held.publish(ev1k(1))).not.toThrow();
    expect(() => held.publish(ev1k(2))).not.toThrow();
    // The hub counts its own topics' bytes only, and trims them alone.
    expect(hub.keptBytes).toBe(size('1', 1));
    expect(
      hub
        .topic('b')
        .history()
        .map((e) => e.id),
    ).toEqual(['1']);
  });

  it("400 publishes of 1 MiB to distinct topics keep no more than the hub's default history bytes (64 MiB)", () => {
    const hub = new Hub();
    const before = retainedBytes();
    for (let i = 0; i < 400; i++) hub.publish(`big-${i}`, { data: String(i).padEnd(MiB, 'x') });
    const grown = retainedBytes() - before;
    expect(hub.keptBytes).toBeLessThanOrEqual(64 * MiB);
    // The history, plus the hub's 400 small topics; before the cap every event stayed (400 MiB).
    expect(grown).toBeLessThan(80 * MiB);
  });

  it("the sse handler's history_bytes and hub_history_bytes bound the config-level hub; a replay past them reports the gap", async () => {
    const routes = [
      {
        match: [{ path: ['/sub/*'] }],
        handle: [
          {
            handler: 'sse',
            topic: '{http.request.uri.path.1}',
            heartbeat: '0s',
            history_bytes: 2 * size('10', 1),
            hub_history_bytes: Math.round(3.5 * size('10', 1)),
          },
        ],
      },
      { match: [{ path: ['/pub/*'] }], handle: [{ handler: 'sse_publish', topic: '{http.request.uri.path.1}' }] },
    ];
    const config = { apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes } } } } };
    const app = await loadConfig(config, { registry: new Registry([...coreModules, sseModule, ssePublishModule]), logger: silentLogger() });
    await app.start();
    defer(() => app.stop(0));
    const url = app.servers[0]!.url;
    const publish = async (topic: string, n: number) => {
      const res = await request(`${url}/pub/${topic}`, { method: 'POST', body: ev1k(n).data });
      expect(res.statusCode).toBe(202);
      await res.body.dump();
    };
    // Per topic: two events fit, the third pushes the first out (the hub would take three).
    for (let i = 1; i <= 3; i++) await publish('a', i);
    const early = new EventSourceClient(`${url}/sub/a`);
    early.lastEventId = 'unknown';
    await early.connect();
    expect(JSON.parse((await early.next()).data)).toEqual({ lastEventId: 'unknown', oldestId: '2' });
    expect((await early.take(2)).map((e) => e.lastEventId)).toEqual(['2', '3']);

    // Hub-wide: three and a half fit; "b" makes four, and "a" (least recently published to) gives one up.
    for (let i = 1; i <= 2; i++) await publish('b', i);
    const late = new EventSourceClient(`${url}/sub/a`);
    late.lastEventId = '2';
    await late.connect();
    const gap = await late.next();
    expect(gap.type).toBe(HISTORY_GAP_EVENT);
    expect(JSON.parse(gap.data)).toEqual({ lastEventId: '2', oldestId: '3' });
    expect(await late.next()).toMatchObject({ data: ev1k(3).data, lastEventId: '3' });
    expect(late.pending).toBe(0);
    // "b" kept both of its events: a client that saw the first gets the second, no gap.
    const b = new EventSourceClient(`${url}/sub/b`);
    b.lastEventId = '1';
    await b.connect();
    expect(await b.next()).toMatchObject({ type: 'message', lastEventId: '2' });
  });
});
