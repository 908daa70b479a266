import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { ConfigError, coreModules, loadConfig, Registry, silentLogger, type FerryApp } from '@ferry/core';
import { Registry as MetricsRegistry } from 'prom-client';
import { HISTORY_GAP_EVENT, sseModule, ssePublishModule } from '../src/index.js';
import { defer, EventSourceClient, rawStalledGet } from './helpers.js';
import { eventually } from '@ferry/test-kit/waiting';

const registry = () => new Registry([...coreModules, sseModule, ssePublishModule]);

function hubConfig(routes: unknown[]) {
  return { apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes } } } } };
}

/** The hub as an operator writes it: subscribe, publish and metrics routes. */
const ROUTES = [
  { match: [{ path: ['/sub/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s', history: 50 }] },
  // A subscriber route for clients that may fall behind: a one-event queue, then drop-oldest.
  {
    match: [{ path: ['/tiny/*'] }],
    handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s', history: 50, max_queued_events: 1 }],
  },
  { match: [{ path: ['/pub/*'] }], handle: [{ handler: 'sse_publish', topic: '{http.request.uri.path.1}' }] },
  { match: [{ path: ['/metrics'] }], handle: [{ handler: 'metrics' }] },
];

async function startHub(): Promise<{ app: FerryApp; url: string; metrics: MetricsRegistry }> {
  const metrics = new MetricsRegistry();
  const app = await loadConfig(hubConfig(ROUTES), { registry: registry(), logger: silentLogger(), metrics });
  await app.start();
  defer(() => app.stop(0));
  return { app, url: app.servers[0]!.url, metrics };
}

async function publish(url: string, body: string | Buffer, contentType = 'text/plain') {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: res.statusCode, body: await res.body.text() };
}

async function metricsText(url: string): Promise<string> {
  const res = await request(`${url}/metrics`);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

/** The value of one sample in the Prometheus text, or undefined when it is not there. */
function sample(text: string, name: string, topic: string): number | undefined {
  const m = new RegExp(`^${name}\\{topic="${topic}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('the config-level hub (sse + sse_publish + metrics)', () => {
  it("a text/plain publish answers 202 and reaches that topic's subscribers only, with an assigned id", async () => {
    const { url } = await startHub();
    const news = new EventSourceClient(`${url}/sub/news`);
    const news2 = new EventSourceClient(`${url}/sub/news`);
    const sports = new EventSourceClient(`${url}/sub/sports`);
    await Promise.all([news.connect(), news2.connect(), sports.connect()]);

    const res = await publish(`${url}/pub/news`, 'hello\nworld');
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ id: '1', stored: true });
    expect(await news.next()).toEqual({ type: 'message', data: 'hello\nworld', lastEventId: '1' });
    expect(await news2.next()).toEqual({ type: 'message', data: 'hello\nworld', lastEventId: '1' });

    expect((await publish(`${url}/pub/sports`, 'goal')).status).toBe(202);
    // The sports subscriber's first event is its own topic's: the news event never reached it.
    expect(await sports.next()).toEqual({ type: 'message', data: 'goal', lastEventId: '1' });
    expect(news.pending).toBe(0);
  });

  it('a JSON publish carries event, data and id', async () => {
    const { url } = await startHub();
    const sub = new EventSourceClient(`${url}/sub/json`);
    await sub.connect();
    const res = await publish(`${url}/pub/json`, '{"event":"x","data":{"a":1},"id":"custom"}', 'application/json');
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ id: 'custom', stored: true });
    expect(await sub.next()).toEqual({ type: 'x', data: '{"a":1}', lastEventId: 'custom' });
    // A string is sent as it is; no id given means one is assigned.
    const res2 = await publish(`${url}/pub/json`, '{"data":"plain text"}', 'application/json; charset=utf-8');
    expect(res2.status).toBe(202);
    const { id } = JSON.parse(res2.body) as { id: string };
    expect(await sub.next()).toEqual({ type: 'message', data: 'plain text', lastEventId: id });
  });

  it('refuses invalid JSON and malformed events with 400, an oversized body with 413, and publishes none of them', async () => {
    const { url } = await startHub();
    const sub = new EventSourceClient(`${url}/sub/bad`);
    await sub.connect();
    expect((await publish(`${url}/pub/bad`, '{"event":', 'application/json')).status).toBe(400);
    expect((await publish(`${url}/pub/bad`, '[1,2]', 'application/json')).status).toBe(400);
    expect((await publish(`${url}/pub/bad`, '{"event":42}', 'application/json')).status).toBe(400);
    expect((await publish(`${url}/pub/bad`, '{"event":"a\\nb","data":1}', 'application/json')).status).toBe(400);
    expect((await publish(`${url}/pub/bad`, '{"id":"1\\r\\ndata: injected"}', 'application/json')).status).toBe(400);
    expect((await publish(`${url}/pub/bad`, '{"data":1,"extra":true}', 'application/json')).status).toBe(400);
    // Default max_body_bytes: 1 MiB.
    expect((await publish(`${url}/pub/bad`, Buffer.alloc(1024 * 1024 + 1, 'a'))).status).toBe(413);
    expect((await publish(`${url}/pub/bad`, 'fine')).status).toBe(202);
    expect(await sub.next()).toEqual({ type: 'message', data: 'fine', lastEventId: '1' });
  });

  it('exposes ferry_sse_subscribers per topic (1 while subscribed, 0 after the client left) and the event counters', async () => {
    const { url } = await startHub();
    const sub = new EventSourceClient(`${url}/sub/metered`);
    await sub.connect();
    let text = await metricsText(url);
    expect(text).toContain('ferry_sse_subscribers{topic="metered"} 1');

    for (let i = 0; i < 3; i++) await publish(`${url}/pub/metered`, `m${i}`);
    await sub.take(3);
    text = await metricsText(url);
    expect(sample(text, 'ferry_sse_events_published_total', 'metered')).toBe(3);
    expect(sample(text, 'ferry_sse_events_delivered_total', 'metered')).toBe(3);

    await sub.disconnect();
    // No event reaches the client when a server-side gauge moves: poll the endpoint, with a deadline.
    await eventually(async () => sample(await metricsText(url), 'ferry_sse_subscribers', 'metered') === 0, 1000, 'gauge back to 0');
    text = await metricsText(url);
    expect(text).toContain('ferry_sse_subscribers{topic="metered"} 0');
    expect(text).toMatch(/^# TYPE ferry_sse_subscribers gauge$/m);
    expect(text).toMatch(/^# TYPE ferry_sse_events_published_total counter$/m);
    expect(text).toMatch(/^# TYPE ferry_sse_events_delivered_total counter$/m);
    expect(text).toMatch(/^# TYPE ferry_sse_events_dropped_total counter$/m);
  });

  it('counts events dropped for a subscriber that does not read, by topic', async () => {
    const { url } = await startHub();
    await rawStalledGet(url, '/tiny/slow');
    const big = Buffer.alloc(512 * 1024, 'd');
    let published = 0;
    let dropped: number | undefined;
    // The kernel's socket buffers take a few MB first; then the one-event queue overflows.
    while (!dropped) {
      expect((await publish(`${url}/pub/slow`, big)).status).toBe(202);
      if (++published > 200) throw new Error('no event dropped after 100 MB');
      dropped = sample(await metricsText(url), 'ferry_sse_events_dropped_total', 'slow');
    }
    const text = await metricsText(url);
    expect(dropped).toBeGreaterThan(0);
    expect(sample(text, 'ferry_sse_events_published_total', 'slow')).toBe(published);
    expect(sample(text, 'ferry_sse_subscribers', 'slow')).toBe(1);
  });

  it('keeps `history` events per topic, even for a topic made by a publish before any subscriber', async () => {
    const { url } = await startHub();
    for (let i = 1; i <= 60; i++) expect((await publish(`${url}/pub/hist`, `h${i}`)).status).toBe(202);
    // Seen up to 5; the topic kept the last 50 (11..60): a gap, then exactly those 50.
    const sub = new EventSourceClient(`${url}/sub/hist`);
    sub.lastEventId = '5';
    await sub.connect();
    const gap = await sub.next();
    expect(gap.type).toBe(HISTORY_GAP_EVENT);
    expect(JSON.parse(gap.data)).toEqual({ lastEventId: '5', oldestId: '11' });
    const replayed = await sub.take(50);
    expect(replayed.map((e) => e.data)).toEqual(Array.from({ length: 50 }, (_, i) => `h${i + 11}`));
    await publish(`${url}/pub/hist`, 'live');
    expect(await sub.next()).toEqual({ type: 'message', data: 'live', lastEventId: '61' });
    expect(sub.pending).toBe(0);

    // Reconnecting from inside the history: exactly what was missed.
    const again = new EventSourceClient(`${url}/sub/hist`);
    again.lastEventId = '58';
    await again.connect();
    expect((await again.take(3)).map((e) => e.data)).toEqual(['h59', 'h60', 'live']);
  });

  it('topics, history and ids outlive a config reload: a subscriber the reload ended resumes with no gap', async () => {
    const { app, url } = await startHub();
    const sub = new EventSourceClient(`${url}/sub/r`);
    await sub.connect();
    for (const d of ['a', 'b']) expect((await publish(`${url}/pub/r`, d)).status).toBe(202);
    expect((await sub.take(2)).map((e) => e.data)).toEqual(['a', 'b']);

    // A reload (one more route): the old routes' streams end; the hub carries on.
    await app.reload(hubConfig([...ROUTES, { match: [{ path: ['/extra'] }], handle: [{ handler: 'static_response', body: 'x' }] }]));
    await expect(sub.next()).rejects.toThrow(/stream ended/);
    expect(JSON.parse((await publish(`${url}/pub/r`, 'c')).body)).toEqual({ id: '3', stored: true });
    // A config that does not validate changes nothing either.
    await expect(app.reload(hubConfig([{ handle: [{ handler: 'sse', topic: '' }] }]))).rejects.toBeInstanceOf(ConfigError);
    expect(JSON.parse((await publish(`${url}/pub/r`, 'd')).body)).toEqual({ id: '4', stored: true });
    // The client comes back with its Last-Event-ID ("2"): exactly what it missed, no gap notice.
    await sub.reconnect();
    expect(await sub.take(2)).toEqual([
      { type: 'message', data: 'c', lastEventId: '3' },
      { type: 'message', data: 'd', lastEventId: '4' },
    ]);

    // A config without the hub's handlers lets it go, once their requests drained.
    await app.reload(hubConfig([{ handle: [{ handler: 'static_response', body: 'none' }] }]));
    await expect(sub.next()).rejects.toThrow(/stream ended/);
    await eventually(() => !app.options.kept!.keys().includes('ferry.sse.hub'), 5000, 'the hub to be closed');
    await app.reload(hubConfig(ROUTES));
    expect(JSON.parse((await publish(`${url}/pub/r`, 'e')).body)).toEqual({ id: '1', stored: true });
  });

  it('reports invalid sse and sse_publish options with their JSON paths', async () => {
    const bad = hubConfig([
      { handle: [{ handler: 'sse', topic: 't', bogus: 1 }] },
      { handle: [{ handler: 'sse', topic: 't', history: -1 }] },
      { handle: [{ handler: 'sse', topic: 't', heartbeat: 'soon' }] },
      { handle: [{ handler: 'sse', topic: 't', slow_client: 'block' }] },
      { handle: [{ handler: 'sse' }] },
      { handle: [{ handler: 'sse_publish', topic: 't', max_body_bytes: 0 }] },
    ]);
    const err = await loadConfig(bad, { registry: registry(), logger: silentLogger() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    const at = (i: number) => `apps.http.servers.srv0.routes[${i}].handle[0]`;
    const paths = issues.map((i) => i.path);
    expect(paths).toContain(`${at(0)}.bogus`);
    expect(paths).toContain(`${at(1)}.history`);
    expect(paths).toContain(`${at(2)}.heartbeat`);
    expect(paths).toContain(`${at(3)}.slow_client`);
    expect(paths).toContain(`${at(4)}.topic`);
    expect(paths).toContain(`${at(5)}.max_body_bytes`);
    expect(issues.find((i) => i.path === `${at(0)}.bogus`)!.message).toMatch(/unknown option/);
    expect(issues.find((i) => i.path === `${at(2)}.heartbeat`)!.message).toMatch(/invalid duration "soon"/);
    expect(issues).toHaveLength(6);
  });
});
