import { Registry as MetricsRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Hub, HISTORY_GAP_EVENT } from '@ferry/sse';
import { freePort } from '@ferry/test-kit/ports';
import { RedisProcess } from '@ferry/test-kit/redis';
import { defer, EventSourceClient, hubServer, LossyRelay, redisClient, redisServer, until, type ReceivedEvent } from './helpers.js';

function hub(url: string, history = 100): Hub {
  const h = new Hub({ broker: { redis: { url } }, history });
  defer(() => h.close());
  return h;
}

const datas = (evs: ReceivedEvent[]) => evs.map((e) => e.data);

/**
 * Hub A reaches Redis through a LossyRelay, hub B directly; a client follows topic `lost` on A and
 * has had B's event `before`.
 */
async function overLossyRelay() {
  const redis = await redisServer();
  const relay = await LossyRelay.start(redis.port);
  const a = hub(relay.url);
  const b = hub(redis.url);
  const { url } = await hubServer(a);
  const client = new EventSourceClient(`${url}/lost`);
  await client.connect();
  await until(() => a.topic('lost').size === 1, 10_000, 'subscribed');
  await b.publish('lost', { data: 'before' });
  expect((await client.next()).data).toBe('before');
  return { redis, relay, a, b, client };
}

describe('a hub on Redis (code)', () => {
  it('shares topics between hubs: ids come from the stream, filters apply, the history is the stream capped at `history`', async () => {
    const redis = await redisServer();
    const a = hub(redis.url, 5);
    const b = hub(redis.url, 5);
    const { url } = await hubServer(a);
    const all = new EventSourceClient(`${url}/t1`);
    const alerts = new EventSourceClient(`${url}/t1?type=alert`);
    await Promise.all([all.connect(), alerts.connect()]);
    await until(() => a.topic('t1').size === 2, 10_000, 'both subscribed');

    const first = await b.publish('t1', { data: 'one' });
    expect(first.stored).toBe(true);
    expect(first.id).toMatch(/^\d+-\d+$/);
    await b.publish('t1', { event: 'alert', data: { level: 2 } });
    await a.publish('t1', { data: 'three' });
    expect(datas(await all.take(3))).toEqual(['one', '{"level":2}', 'three']);
    expect(await alerts.next()).toMatchObject({ type: 'alert', data: '{"level":2}' });
    expect(all.events[0]!.lastEventId).toBe(first.id);

    for (let i = 4; i <= 12; i++) await b.publish('t1', { data: `e${i}` });
    const r = redisClient(redis.url);
    expect(await r.xlen('ferry:sse:t1')).toBe(5);
    await expect(b.publish('t1', { data: 'x', id: 'mine' })).rejects.toThrow(/ids are given by the redis broker/);
  });

  it('reads what its subscriber connection missed from the stream: nothing lost, nothing twice, in order', async () => {
    const redis = await redisServer();
    const a = hub(redis.url);
    const b = hub(redis.url);
    const { url } = await hubServer(a);
    const client = new EventSourceClient(`${url}/cut`);
    await client.connect();
    await until(() => a.topic('cut').size === 1, 10_000, 'subscribed');
    await b.publish('cut', { data: 'before' });
    expect((await client.next()).data).toBe('before');

    // Cut every pub/sub connection (A's): B keeps publishing meanwhile.
    const admin = redisClient(redis.url);
    expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
    for (let i = 1; i <= 50; i++) await b.publish('cut', { data: `m${i}` });
    const got = await client.take(50, 10_000);
    expect(datas(got)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 1}`));
    await b.publish('cut', { data: 'after' });
    expect((await client.next()).data).toBe('after');
    expect(client.connections).toBe(1);
  });

  it('a publish whose answer was lost after Redis stored it reaches each subscriber once (copy read back later)', async () => {
    const { redis, relay, a, b, client } = await overLossyRelay();

    // Redis runs A's publish and answers; the answer and the pub/sub copy never reach A, whose
    // connections then drop.
    const loss = relay.arm('LOST-A', { holdOthers: true });
    const published = a.publish('lost', { data: 'LOST-A' });
    await loss.replied;
    loss.cut();
    const local = await published;
    expect(local).toMatchObject({ stored: false, id: expect.stringMatching(/^\d+-L\d+$/) });
    expect(await client.next()).toMatchObject({ data: 'LOST-A', lastEventId: local.id });
    // It is in the stream all the same: A reads it back when it reconnects, and knows it is its own.
    const stored = (await redisClient(redis.url).xrange('ferry:sse:lost', '-', '+')).map(([, f]) => f[f.indexOf('e') + 1]);
    expect(stored.filter((e) => e?.includes('LOST-A'))).toHaveLength(1);
    await b.publish('lost', { data: 'after' });
    expect((await client.next(10_000)).data).toBe('after');
    expect(datas(client.events)).toEqual(['before', 'LOST-A', 'after']);
  });

  it('a publish whose answer was lost after its pub/sub copy came back resolves with the stored id, delivered once', async () => {
    const { relay, a, b, client } = await overLossyRelay();

    const loss = relay.arm('LOST-B');
    const published = a.publish('lost', { data: 'LOST-B' });
    await loss.replied;
    const live = await client.next();
    expect(live).toMatchObject({ data: 'LOST-B', lastEventId: expect.stringMatching(/^\d+-\d+$/) });
    loss.cut();
    expect(await published).toMatchObject({ stored: true, id: live.lastEventId });
    await b.publish('lost', { data: 'after' });
    expect((await client.next(10_000)).data).toBe('after');
    expect(datas(client.events)).toEqual(['before', 'LOST-B', 'after']);
  });

  it('tells live subscribers when events were trimmed away while it was disconnected', async () => {
    const redis = await redisServer();
    const a = hub(redis.url, 3);
    const b = hub(redis.url, 3);
    const { url } = await hubServer(a);
    const client = new EventSourceClient(`${url}/trim`);
    await client.connect();
    await until(() => a.topic('trim').size === 1, 10_000, 'subscribed');
    await b.publish('trim', { data: 'seen' });
    expect((await client.next()).data).toBe('seen');

    const admin = redisClient(redis.url);
    await admin.client('KILL', 'TYPE', 'pubsub');
    for (let i = 1; i <= 10; i++) await b.publish('trim', { data: `m${i}` });
    const gap = await client.next(10_000);
    expect(gap.type).toBe(HISTORY_GAP_EVENT);
    expect(gap.lastEventId).toBe(client.events[0]!.lastEventId); // the notice carries no id
    expect(datas(await client.take(3))).toEqual(['m8', 'm9', 'm10']);
  });

  it('replays from Redis for a Last-Event-ID given by another hub, and says so when the history does not reach back', async () => {
    const redis = await redisServer();
    const a = hub(redis.url, 4);
    const b = hub(redis.url, 4);
    const ids: string[] = [];
    for (let i = 1; i <= 6; i++) ids.push((await a.publish('r', { data: `e${i}` })).id);
    const { url } = await hubServer(b);

    const resume = new EventSourceClient(`${url}/r`, { headers: { 'last-event-id': ids[3]! } });
    await resume.connect();
    expect(datas(await resume.take(2))).toEqual(['e5', 'e6']);
    await a.publish('r', { data: 'e7' });
    expect((await resume.next()).data).toBe('e7');
    expect(resume.pending).toBe(0);

    // ids[0] was trimmed (MAXLEN 4): a gap, then all that is kept.
    const old = new EventSourceClient(`${url}/r`, { headers: { 'last-event-id': ids[0]! } });
    await old.connect();
    expect((await old.next()).type).toBe(HISTORY_GAP_EVENT);
    expect(datas(await old.take(4))).toEqual(['e4', 'e5', 'e6', 'e7']);

    // The newest id: nothing to replay, no gap.
    const upToDate = new EventSourceClient(`${url}/r`, { headers: { 'last-event-id': ids[5]! } });
    await upToDate.connect();
    expect((await upToDate.next()).data).toBe('e7');
    await a.publish('r', { data: 'e8' });
    expect((await upToDate.next()).data).toBe('e8');
  });

  it('serves local subscribers while Redis is not there, and joins it once it starts', async () => {
    const port = await freePort();
    const registry = new MetricsRegistry();
    const a = new Hub({ broker: { redis: { url: `redis://127.0.0.1:${port}` } }, metrics: registry });
    defer(() => a.close());
    const connected = async () => (await registry.getSingleMetric('ferry_sse_broker_connected')!.get()).values;
    expect(await connected()).toEqual([{ labels: { broker: 'redis' }, value: 0 }]);
    const { url } = await hubServer(a);
    const client = new EventSourceClient(`${url}/late`);
    await client.connect();
    await until(() => a.topic('late').size === 1, 10_000, 'subscribed');
    const local = await a.publish('late', { data: 'alone' });
    expect(local.stored).toBe(false);
    expect(local.id).toMatch(/^\d+-L\d+$/);
    expect(await client.next()).toMatchObject({ data: 'alone', lastEventId: local.id });

    const redis = await RedisProcess.start(port);
    defer(() => redis.stop());
    const b = hub(redis.url);
    // Once A is connected, B's events reach A's subscriber.
    let n = 0;
    await until(
      async () => {
        await b.publish('late', { data: `probe${++n}` });
        return client.events.some((e) => e.data.startsWith('probe'));
      },
      10_000,
      "A's subscriber gets B's events",
    );
    // A's two connections come back each on its own backoff: the command one may still be away.
    await until(() => a.broker!.available, 10_000, "A's command connection back");
    const stored = await a.publish('late', { data: 'shared' });
    expect(stored.stored).toBe(true);
    expect(await connected()).toEqual([{ labels: { broker: 'redis' }, value: 1 }]);
    await until(() => client.events.some((e) => e.data === 'shared'), 10_000, 'the shared event arrives');
  });
});
