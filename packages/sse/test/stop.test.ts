import { getEventListeners, once } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  coreModules,
  createServer,
  loadConfig,
  Registry,
  silentLogger,
  type FerryRequest,
  type FerryServer,
  type ResponseWriter,
} from '@ferry/core';
import { Registry as MetricsRegistry, type Gauge } from 'prom-client';
import { eventStream, sseModule, ssePublishModule, type CloseReason, type EventStream } from '../src/index.js';
import { defer, deferred } from './helpers.js';
import { h1Response, h2Response, h2Session } from '@ferry/test-kit/clients';
import { TextCollector } from '@ferry/test-kit/streams';
import { within } from '@ferry/test-kit/waiting';

describe('server stop', () => {
  it('server.close() ends code streams made with signal: server.stopping cleanly, and resolves promptly (HTTP/1.1 and h2c)', async () => {
    const streams: EventStream[] = [];
    const two = deferred();
    // Declared before it is assigned: the handlers passed to createServer refer to it.
    let server: FerryServer;
    server = createServer({
      listen: '127.0.0.1:0',
      logger: false,
      protocols: ['h1', 'h2c'],
      handler: async (req: FerryRequest, res: ResponseWriter) => {
        const stream = eventStream(req, res, { heartbeat: 0, signal: server.stopping });
        streams.push(stream);
        if (streams.length === 2) two.resolve();
        await stream.closed;
      },
    });
    await server.listen();
    defer(() => server.close({ gracePeriod: 0 }));

    const h1 = await h1Response(server.url);
    const h1Body = new TextCollector(h1);
    const session = await h2Session(server.url);
    const { stream: h2 } = await h2Response(session, '/');
    const h2Body = new TextCollector(h2);
    await two.promise;
    for (const s of streams) s.send({ data: 'before stop' });
    await Promise.all([h1Body.contains('before stop'), h2Body.contains('before stop')]);

    const t0 = performance.now();
    // A long grace period: only the streams ending on `stopping` can make close() quick.
    await within(server.close({ gracePeriod: 10_000 }), 2000, 'server.close()');
    const ms = performance.now() - t0;
    console.log(`[sse] server.close() with 2 open streams: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(1000);
    expect(await Promise.all(streams.map((s) => s.closed))).toEqual<CloseReason[]>(['stopping', 'stopping']);
    // Cleanly: a complete HTTP/1.1 body, an h2 stream ended without a reset.
    await body(h1Body);
    expect(h1.complete).toBe(true);
    await body(h2Body);
    if (!h2.closed) await once(h2, 'close');
    expect(h2.rstCode).toBe(0);
    expect(h1Body.text).toBe('data: before stop\n\n');
    expect(h2Body.text).toBe('data: before stop\n\n');
  });

  it('streams on signal: server.stopping share one listener on it (no leak warning past ten), and all end on stop', async () => {
    const streams: EventStream[] = [];
    // Declared before it is assigned: the handlers passed to createServer refer to it.
    let server: FerryServer;
    server = createServer({
      listen: '127.0.0.1:0',
      logger: false,
      handler: async (req: FerryRequest, res: ResponseWriter) => {
        const stream = eventStream(req, res, { heartbeat: 0, signal: server.stopping });
        streams.push(stream);
        await stream.closed;
      },
    });
    await server.listen();
    defer(() => server.close({ gracePeriod: 0 }));
    const before = getEventListeners(server.stopping, 'abort').length;
    const clients = await Promise.all(Array.from({ length: 20 }, () => h1Response(server.url)));
    expect(streams).toHaveLength(20);
    // Node warns of a leak at the eleventh listener on one signal: 20 subscribers did that.
    expect(getEventListeners(server.stopping, 'abort').length).toBeLessThanOrEqual(before + 1);

    // One that left gives its place up; the others still end on stop.
    clients[0]!.destroy();
    expect(await within(streams[0]!.closed, 1000, 'the first stream')).toBe<CloseReason>('client-gone');
    await within(server.close({ gracePeriod: 10_000 }), 2000, 'server.close()');
    expect(new Set(await Promise.all(streams.slice(1).map((s) => s.closed)))).toEqual(new Set<CloseReason>(['stopping']));
  });

  it("stopping a config app closes the hub's subscriber streams cleanly and promptly; the gauge goes to 0", async () => {
    const metrics = new MetricsRegistry();
    const app = await loadConfig(
      {
        apps: {
          http: {
            grace_period: '10s',
            servers: {
              srv0: {
                listen: ['127.0.0.1:0'],
                routes: [
                  { match: [{ path: ['/sub/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '15s' }] },
                ],
              },
            },
          },
        },
      },
      { registry: new Registry([...coreModules, sseModule, ssePublishModule]), logger: silentLogger(), metrics },
    );
    await app.start();
    defer(() => app.stop(0));
    const url = app.servers[0]!.url;
    const clients = await Promise.all([h1Response(`${url}/sub/a`), h1Response(`${url}/sub/a`), h1Response(`${url}/sub/b`)]);
    const bodies = clients.map((c) => new TextCollector(c));
    const gauge = async (topic: string) =>
      (await (metrics.getSingleMetric('ferry_sse_subscribers') as Gauge<'topic'>).get()).values.find((v) => v.labels.topic === topic)
        ?.value;
    expect(await gauge('a')).toBe(2);

    const t0 = performance.now();
    await within(app.stop(), 2000, 'app.stop()');
    const ms = performance.now() - t0;
    console.log(`[sse] app.stop() with 3 hub subscribers: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(1000);
    for (const [i, c] of clients.entries()) {
      await body(bodies[i]!);
      expect(c.complete).toBe(true);
    }
    expect(await gauge('a')).toBe(0);
    expect(await gauge('b')).toBe(0);
  });
});

/** Waits for a clean end of the body (rejects if it is cut). */
async function body(collector: TextCollector): Promise<void> {
  await collector.until(() => collector.ended, 2000, 'the end of the stream');
}
