import { describe, expect, it } from 'vitest';
import { HISTORY_GAP_EVENT } from '@ferry/sse';
import { EventSourceClient, ferryProcess, publish, redisServer, sseConfig, until, type FerryProcess } from './helpers.js';

interface Sent {
  from: 'A' | 'B';
  data: string;
  id: string;
  stored: boolean;
  phase: 'before' | 'outage' | 'after';
}

/**
 * The loss window, as docs/scaling.md states it: while an instance cannot reach Redis, the events
 * published on it reach only its own subscribers and are not stored, and it receives nothing from
 * the others. Everything outside that window — events published before the outage and after the
 * instances are back — reaches every subscriber, once, in order.
 */
describe('Redis killed and restarted during a stream of publishes', () => {
  it('both instances keep serving their local subscribers, reconnect on their own, and lose only what the documented window says', async () => {
    const redis = await redisServer();
    const [a, b] = await Promise.all([ferryProcess(sseConfig(redis.url)), ferryProcess(sseConfig(redis.url))]);
    const subs = { A: new EventSourceClient(`${a.url}/events/live`), B: new EventSourceClient(`${b.url}/events/live`) };
    await Promise.all([subs.A.connect(), subs.B.connect()]);
    const at: Record<'A' | 'B', FerryProcess> = { A: a, B: b };
    const sent: Sent[] = [];
    let n = 0;
    const send = async (from: 'A' | 'B', phase: Sent['phase']) => {
      const data = `${from}${++n}`;
      const res = await publish(at[from].url, 'live', { data });
      expect(res.status).toBe(202);
      sent.push({ from, data, id: res.body.id!, stored: res.body.stored!, phase });
      return sent.at(-1)!;
    };
    const has = (who: 'A' | 'B', data: string) => subs[who].events.some((e) => e.data === data);

    // Both subscriptions are live once each side sees the other's event.
    await until(
      async () => {
        await send('A', 'before');
        await send('B', 'before');
        return sent.some((s) => s.from === 'B' && has('A', s.data)) && sent.some((s) => s.from === 'A' && has('B', s.data));
      },
      5000,
      'both subscriptions live',
    );
    for (let i = 0; i < 20; i++) await send(i % 2 ? 'B' : 'A', 'before');
    const lastBefore = sent.at(-1)!;
    await until(() => has('A', lastBefore.data) && has('B', lastBefore.data), 10_000, 'the events before the outage arrive');
    const warmup = new Set(sent.map((s) => s.data));

    await redis.kill();
    for (let i = 0; i < 20; i++) await send(i % 2 ? 'B' : 'A', 'outage');
    const outage = sent.filter((s) => s.phase === 'outage');
    // Each instance noticed at once: nothing stored, every event delivered to its own subscribers.
    expect(outage.every((s) => !s.stored && /^\d+-L\d+$/.test(s.id))).toBe(true);
    await until(() => outage.every((s) => has(s.from, s.data)), 10_000, 'local delivery during the outage');

    await redis.restart();
    // Reconnecting is theirs to do (backoff up to 2 s): publish until each sees the other again.
    await until(
      async () => {
        const x = await send('A', 'after');
        const y = await send('B', 'after');
        return x.stored && y.stored && has('B', x.data) && has('A', y.data);
      },
      15_000,
      'both instances back on Redis',
    );
    const reconnected = sent.length;
    for (let i = 0; i < 20; i++) await send(i % 2 ? 'B' : 'A', 'after');
    const last = sent.at(-1)!;
    await until(() => has('A', last.data) && has('B', last.data), 10_000, 'the events after the outage arrive');

    for (const who of ['A', 'B'] as const) {
      const other = who === 'A' ? 'B' : 'A';
      const got = subs[who].events.filter((e) => e.type === 'message').map((e) => e.data);
      // Redis came back empty: on reconnecting, an instance says its live subscribers may have missed events.
      expect(subs[who].events.filter((e) => e.type === HISTORY_GAP_EVENT).length).toBeLessThanOrEqual(1);
      // Never disconnected, nothing twice.
      expect(subs[who].connections).toBe(1);
      expect(new Set(got).size).toBe(got.length);
      // In order, outside the window: the order each was published in (publishes are sequential
      // here). Around a reconnection, events read from the stream may come after local ones.
      const order = new Map(sent.map((s, i) => [s.data, i]));
      const firstOutage = sent.findIndex((s) => s.phase === 'outage');
      const positions = got.map((d) => order.get(d)!).filter((i) => i < firstOutage || i >= reconnected);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      // Outside the window, everything; inside it, its own instance's events only.
      const expected = sent
        .filter((s, i) =>
          (s.phase === 'before' && !warmup.has(s.data)) || s.phase === 'outage' ? s.from === who || s.phase !== 'outage' : i >= reconnected,
        )
        .map((s) => s.data);
      for (const d of expected) expect(got).toContain(d);
      expect(got.filter((d) => outage.some((s) => s.data === d && s.from === other))).toEqual([]);
    }
    expect(a.ferry.stderr).toMatch(/lost the Redis connection/);
    expect(a.ferry.stderr).toMatch(/Redis connection back/);

    // A client that last saw an event given during the outage (never stored) resumes elsewhere
    // with a history-gap notice, then the events stored after that moment.
    const localId = outage.find((s) => s.from === 'A')!.id;
    const resumed = new EventSourceClient(`${b.url}/events/live`, { headers: { 'last-event-id': localId } });
    await resumed.connect();
    const first = await resumed.next();
    expect(first.type).toBe(HISTORY_GAP_EVENT);
    // (Probes published while an instance was still reconnecting were not stored either.)
    const storedAfter = sent.filter((s) => s.phase === 'after' && s.stored).map((s) => s.data);
    const rest = await resumed.take(storedAfter.length);
    expect(rest.map((e) => e.data)).toEqual(storedAfter);
    expect(resumed.pending).toBe(0);
  });
});
