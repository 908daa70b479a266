import { describe, expect, it } from 'vitest';
import { Registry as MetricsRegistry } from 'prom-client';
import { Hub, streamEvents } from '../src/index.js';
import { EventSourceClient, startServer } from './helpers.js';
import { eventually } from '@ferry/test-kit/waiting';

/** The samples of `name` in the Prometheus text: topic label → value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}\\{topic="([^"]*)"\\} (\\S+)$`, 'gm'))) out.set(m[1]!, Number(m[2]));
  return out;
}

describe('metric labels from topic names', () => {
  it('30,000 distinct topics make at most 1,000 topic series per metric, plus "other" counting the rest', async () => {
    const metrics = new MetricsRegistry();
    const hub = new Hub({ metrics });
    for (let i = 0; i < 30_000; i++) void hub.publish(`t${i}`, { data: 'x' });
    const text = await metrics.metrics();
    const published = samples(text, 'ferry_sse_events_published_total');
    // Topics past the hub's 10,000 evict idle ones (and their series): the first 1,000 named
    // topics are all gone by now, and every later one counted under "other".
    expect(published.size).toBeLessThanOrEqual(1001);
    expect(published.get('other')).toBe(29_000);
    expect(text.length).toBeLessThan(200 * 1024);
  });

  it('the subscriber gauge of "other" goes up and down with the subscriptions it stands for', async () => {
    const metrics = new MetricsRegistry();
    const hub = new Hub({ metrics, metricsTopics: 2 });
    const server = await startServer({
      handler: streamEvents((s, req) => void hub.topic(req.path.slice(1)).subscribe(s), { heartbeat: 0 }),
    });
    const gauge = async () => samples(await metrics.metrics(), 'ferry_sse_subscribers');
    const clients = ['a', 'b', 'c', 'd', 'c'].map((t) => new EventSourceClient(`${server.url}/${t}`));
    for (const c of clients) await c.connect();
    await eventually(async () => (await gauge()).get('other') === 3, 2000, 'three subscriptions under "other"');
    expect(Object.fromEntries(await gauge())).toEqual({ a: 1, b: 1, other: 3 });

    await clients[2]!.disconnect(); // one of "c"
    await clients[3]!.disconnect(); // "d"
    await eventually(async () => (await gauge()).get('other') === 1, 2000, 'one subscription left under "other"');
    expect(Object.fromEntries(await gauge())).toEqual({ a: 1, b: 1, other: 1 });
  });
});
