/**
 * What one HTTP/2 connection may cost the server: a bounded number of streams
 * (SETTINGS_MAX_CONCURRENT_STREAMS), and no metric series from the methods it invents.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { loadConfig, metrics, path, silentLogger, staticResponse, type ServerOptions } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';
import { FRAME, RawH2 } from '@ferry/test-kit/h2-frames';
import { defer } from '@ferry/test-kit/lifecycle';
import { h2Request, startServer } from '../protocols/helpers.js';
import { h2Session } from '@ferry/test-kit/clients';

const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;

/** A test server speaking h1 and h2c. */
const serve = (options: ServerOptions) => startServer({ protocols: ['h1', 'h2c'], ...options });

/** An upstream that answers nothing until released, counting the connections and requests it gets. */
async function slowUpstream() {
  const held: ServerResponse[] = [];
  let connections = 0;
  const server = createHttpServer((_req, res) => void held.push(res));
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  defer(async () => {
    for (const res of held) res.end();
    server.closeAllConnections();
    server.close();
  });
  return {
    dial: `127.0.0.1:${(server.address() as { port: number }).port}`,
    get connections() {
      return connections;
    },
    get requests() {
      return held.length;
    },
  };
}

describe('HTTP/2 stream limits', () => {
  it('advertises SETTINGS_MAX_CONCURRENT_STREAMS 250 by default, and the configured value', async () => {
    const byDefault = await serve({ routes: [{ handle: [staticResponse({ body: 'x' })] }] });
    const a = await RawH2.open(byDefault.addresses[0]!.port);
    defer(() => a.close());
    expect(a.settings.get(SETTINGS_MAX_CONCURRENT_STREAMS)).toBe(250);

    const app = await loadConfig(
      { apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], protocols: ['h1', 'h2c'], max_concurrent_streams: 7, routes: [] } } } } },
      { logger: silentLogger() },
    );
    await app.start();
    defer(() => app.stop());
    const b = await RawH2.open(app.servers[0]!.addresses[0]!.port);
    defer(() => b.close());
    expect(b.settings.get(SETTINGS_MAX_CONCURRENT_STREAMS)).toBe(7);
  });

  it('max_concurrent_streams below 1 is a config error at its path', async () => {
    await expect(
      loadConfig(
        { apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], max_concurrent_streams: 0, routes: [] } } } } },
        { logger: silentLogger() },
      ),
    ).rejects.toThrow(/apps\.http\.servers\.s\.max_concurrent_streams/);
  });

  it('5,000 streams on one connection against a slow upstream reach it as at most 250 requests, and a fresh client is served', async () => {
    const upstream = await slowUpstream();
    const server = await serve({
      routes: [
        { match: [[path('/fresh')]], handle: [staticResponse({ body: 'fresh' })], terminal: true },
        { handle: [reverseProxy({ upstreams: [{ dial: upstream.dial }] })] },
      ],
    });
    const attacker = await RawH2.open(server.addresses[0]!.port);
    defer(() => attacker.close());
    const fields = [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':authority', 'x'],
      [':path', '/slow'],
    ] as const;
    for (let i = 0; i < 5000; i++) attacker.request(2 * i + 1, fields);
    // The server refuses the streams past its limit (RST_STREAM, or GOAWAY for the connection).
    await attacker.until(
      () =>
        attacker.closed ||
        attacker.frames.some((f) => f.type === FRAME.GOAWAY) ||
        attacker.frames.filter((f) => f.type === FRAME.RST_STREAM).length >= 4750,
    );

    const session = await h2Session(server.url);
    const fresh = await h2Request(session, { ':path': '/fresh' });
    expect(fresh.status).toBe(200);
    expect(fresh.body.toString()).toBe('fresh');
    expect(upstream.requests).toBeLessThanOrEqual(250);
    expect(upstream.connections).toBeLessThanOrEqual(250);
  });
});

describe('request metrics', () => {
  it('30,000 distinct h2 methods make no more than the known methods and OTHER as series', async () => {
    const server = await serve({
      requestMetrics: true,
      routes: [{ match: [[path('/metrics')]], handle: [metrics()], terminal: true }, { handle: [staticResponse({ body: 'ok' })] }],
    });
    const session = h2connect(server.url);
    defer(() => session.destroy());
    session.on('error', () => {});
    await once(session, 'connect');
    const N = 30_000;
    for (let batch = 0; batch < N; batch += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => {
          const stream = session.request({ ':method': `M${batch + i}`, ':path': '/' });
          stream.resume();
          return once(stream, 'close');
        }),
      );
    }
    const started = performance.now();
    const scrape = await h2Request(session, { ':path': '/metrics' });
    const scrapeMs = performance.now() - started;
    const text = scrape.body.toString();
    const series = text.split('\n').filter((l) => l.startsWith('ferry_http_requests_total{'));
    console.log(`[metrics] ${N} methods: ${series.length} request series, scrape ${text.length} B in ${scrapeMs.toFixed(1)} ms`);
    expect(series.length).toBeLessThanOrEqual(3);
    expect(series).toContain(`ferry_http_requests_total{server="default",method="OTHER",code="200"} ${N}`);
    expect(text.length).toBeLessThan(64 * 1024);
  });

  it('a fresh server with a metrics handler serves process metrics and the request series from its first scrape', async () => {
    const server = await serve({ routes: [{ handle: [metrics()] }] });
    const session = await h2Session(server.url);
    const first = (await h2Request(session, { ':path': '/metrics' })).body.toString();
    expect(first).toContain('# HELP ferry_http_requests_total');
    expect(first).toContain('# TYPE ferry_http_request_duration_seconds histogram');
    expect(first).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(first).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    // The first scrape itself is counted: request metrics are on once a handler serves them.
    const second = (await h2Request(session, { ':path': '/metrics' })).body.toString();
    expect(second).toContain('ferry_http_requests_total{server="default",method="GET",code="200"} 1');
  });
});
