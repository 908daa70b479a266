import { describe, expect, it } from 'vitest';
import { HISTORY_GAP_EVENT } from '@ferry/sse';
import { EventSourceClient, ferryProcess, publish, redisClient, redisServer, sseConfig, type ReceivedEvent } from './helpers.js';

const datas = (evs: ReceivedEvent[]) => evs.map((e) => e.data);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('two ferry processes sharing one Redis', () => {
  it('a subscriber on A gets what is published on B within 50 ms (median of 1,000 events), in order, every one', async () => {
    const redis = await redisServer();
    const [a, b] = await Promise.all([ferryProcess(sseConfig(redis.url)), ferryProcess(sseConfig(redis.url))]);
    const client = new EventSourceClient(`${a.url}/events/latency`);
    await client.connect();
    // The head came once A followed the topic: the very first event published on B reaches it.
    const latencies: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const sent = performance.now();
      const res = await publish(b.url, 'latency', { data: String(i) });
      expect(res.status).toBe(202);
      expect(res.body.stored).toBe(true);
      ids.push(res.body.id!);
      const ev = await client.next(2000);
      latencies.push(performance.now() - sent);
      expect(ev.data).toBe(String(i));
      expect(ev.lastEventId).toBe(res.body.id);
    }
    const med = median(latencies);
    const p99 = [...latencies].sort((x, y) => x - y)[989]!;
    process.stdout.write(`redis fan-out B→A: median ${med.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms over 1000 events\n`);
    expect(med).toBeLessThan(50);
    expect(new Set(ids).size).toBe(1000);
  });

  it('a client moving from A to B with Last-Event-ID gets exactly what it missed, in order, without duplicates', async () => {
    const redis = await redisServer();
    const [a, b] = await Promise.all([ferryProcess(sseConfig(redis.url)), ferryProcess(sseConfig(redis.url))]);
    const client = new EventSourceClient(`${a.url}/events/move`);
    await client.connect();
    let n = 0;
    // Published on both instances, alternately.
    const next = () => publish(++n % 2 ? a.url : b.url, 'move', { data: `e${n}` });
    for (let i = 0; i < 6; i++) await next();
    await client.take(6);
    const before = client.events.length;
    const lastSeen = client.lastEventId;
    expect(client.events.at(-1)!.data).toBe(`e${n}`);
    await client.disconnect();

    const missed: string[] = [];
    for (let i = 0; i < 7; i++) {
      await next();
      missed.push(`e${n}`);
    }
    // Back, on the other instance, as an EventSource would: with the last id it saw.
    const moved = new EventSourceClient(`${b.url}/events/move`, { headers: { 'last-event-id': lastSeen } });
    await moved.connect();
    expect(datas(await moved.take(7))).toEqual(missed);
    await next();
    expect((await moved.next()).data).toBe(`e${n}`);
    expect(moved.pending).toBe(0);
    expect(moved.events.some((e) => e.type === HISTORY_GAP_EVENT)).toBe(false);
    expect(before).toBeGreaterThanOrEqual(6);
  });

  it('a client whose Last-Event-ID is older than the history gets a history-gap event, then what is kept', async () => {
    const redis = await redisServer();
    const [a, b] = await Promise.all([
      ferryProcess(sseConfig(redis.url, { history: 3 })),
      ferryProcess(sseConfig(redis.url, { history: 3 })),
    ]);
    const first = await publish(a.url, 'short', { data: 'e1' });
    for (let i = 2; i <= 8; i++) await publish(a.url, 'short', { data: `e${i}` });
    const client = new EventSourceClient(`${b.url}/events/short`, { headers: { 'last-event-id': first.body.id! } });
    await client.connect();
    const gap = await client.next();
    expect(gap.type).toBe(HISTORY_GAP_EVENT);
    expect(JSON.parse(gap.data)).toMatchObject({ lastEventId: first.body.id });
    expect(datas(await client.take(3))).toEqual(['e6', 'e7', 'e8']);
  });

  it('refuses a publish that brings its own id (ids are Redis stream ids), and a broker URL that is not redis://', async () => {
    const redis = await redisServer();
    const a = await ferryProcess(sseConfig(redis.url));
    const res = await publish(a.url, 'ids', { data: 'x', id: 'mine' });
    expect(res.status).toBe(400);
    await expect(ferryProcess(sseConfig('http://127.0.0.1:6379'))).rejects.toThrow(/broker\.redis\.url.*redis:\/\//s);
  });

  it('expire_after: every publish gives the topic stream that time to live; a bad duration is a config error with its path', async () => {
    const redis = await redisServer();
    const a = await ferryProcess(sseConfig(redis.url, { expireAfter: '1h' }));
    expect((await publish(a.url, 'brief', { data: 'x' })).body.stored).toBe(true);
    const r = redisClient(redis.url);
    const ttl = await r.pttl('ferry:sse:brief');
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    const b = await ferryProcess(sseConfig(redis.url));
    expect((await publish(b.url, 'kept', { data: 'x' })).body.stored).toBe(true);
    expect(await r.pttl('ferry:sse:kept')).toBe(-1); // no expiry
    await expect(ferryProcess(sseConfig(redis.url, { expireAfter: 'soon' }))).rejects.toThrow(
      /broker\.redis\.expire_after.*invalid duration/s,
    );
  });
});
