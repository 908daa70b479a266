import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defer, startProxy } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { httpUpstream } from '@ferry/test-kit/upstreams';
import { eventually } from '@ferry/test-kit/waiting';

/** An upstream whose /health answer the test controls; everything else answers its name. */
async function checked(name: string) {
  const state = { status: 200, body: 'ok', checks: 0 };
  const up = await httpUpstream(name, (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === '/health') {
      state.checks++;
      res.statusCode = state.status;
      res.end(state.body);
    } else res.end(name);
  });
  return { ...up, state };
}

async function answers(url: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await h1Get(url);
    out.push(r.status === 200 ? r.body.toString() : String(r.status));
  }
  return out;
}

const active = { uri: '/health', interval: '100ms', timeout: '1s', expectStatus: 200, expectBody: '^ok$', fails: 2, passes: 2 };

describe('active health checks', () => {
  it('take an upstream out after `fails` failed checks and bring it back after `passes` good ones', async () => {
    const a = await checked('a');
    const b = await checked('b');
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }, { dial: b.dial }],
      loadBalancing: { selectionPolicy: { policy: 'round_robin' } },
      healthChecks: { active },
    });
    expect(new Set(await answers(proxy.url, 4))).toEqual(new Set(['a', 'b']));

    a.state.status = 503;
    const before = a.state.checks;
    // Two failed checks, then one more round so the second verdict has been recorded.
    await eventually(() => a.state.checks >= before + 3, 3000);
    expect(await answers(proxy.url, 6)).toEqual(Array(6).fill('b'));

    a.state.status = 200;
    const back = a.state.checks;
    await eventually(() => a.state.checks >= back + 3, 3000);
    expect(new Set(await answers(proxy.url, 4))).toEqual(new Set(['a', 'b']));
  });

  it('count a 200 whose body does not match expect_body as a failure', async () => {
    const a = await checked('a');
    const b = await checked('b');
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }, { dial: b.dial }],
      loadBalancing: { selectionPolicy: { policy: 'round_robin' } },
      healthChecks: { active: { ...active, fails: 1 } },
    });
    a.state.body = 'degraded';
    const before = a.state.checks;
    await eventually(() => a.state.checks >= before + 2, 3000);
    expect(await answers(proxy.url, 4)).toEqual(Array(4).fill('b'));
  });

  it('probe the health port when `port` is set, not the serving port', async () => {
    const a = await checked('a');
    const health = await checked('health-port');
    health.state.status = 503;
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }],
      healthChecks: { active: { ...active, fails: 1, passes: 1, port: health.port } },
    });
    await eventually(() => health.state.checks >= 2, 3000);
    expect((await h1Get(proxy.url)).status).toBe(503);
    health.state.status = 200;
    const back = health.state.checks;
    await eventually(() => health.state.checks >= back + 2, 3000);
    expect(await answers(proxy.url, 1)).toEqual(['a']);
    expect(a.state.checks).toBe(0);
  });

  it('probe an h2c upstream over h2c, the transport it is served with', async () => {
    const server = createH2Server((req, res) => {
      checks += req.url === '/health' ? 1 : 0;
      res.end(req.url === '/health' ? 'ok' : 'h2c');
    });
    let checks = 0;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const sessions = new Set<Http2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('error', () => {}); // a session the test tears down may report its reset
    });
    defer(() => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(r));
    });
    const dial = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await startProxy({ upstreams: [{ dial }], transport: { versions: ['h2c'] }, healthChecks: { active } });
    await eventually(() => checks >= 3, 3000);
    expect(await answers(proxy.url, 2)).toEqual(['h2c', 'h2c']);
  });

  it('answer 503 when every upstream is down', async () => {
    const a = await checked('a');
    a.state.status = 500;
    const proxy = await startProxy({ upstreams: [{ dial: a.dial }], healthChecks: { active: { ...active, fails: 1 } } });
    await eventually(() => a.state.checks >= 2, 3000);
    const r = await h1Get(proxy.url);
    expect(r.status).toBe(503);
    expect(a.seen.every((req) => req.url === '/health')).toBe(true);
  });
});

describe('passive health checks', () => {
  it('mark an upstream down after max_fails unhealthy statuses within fail_duration', async () => {
    const a = await httpUpstream('a', (req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end('a');
    });
    const b = await httpUpstream('b');
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }, { dial: b.dial }],
      loadBalancing: { selectionPolicy: { policy: 'round_robin' } },
      healthChecks: { passive: { failDuration: '30s', maxFails: 2, unhealthyStatus: [500] } },
    });
    // round_robin: a, b, a, b — the second 500 from a takes it out.
    expect(await answers(proxy.url, 4)).toEqual(['500', 'b', '500', 'b']);
    expect(await answers(proxy.url, 4)).toEqual(Array(4).fill('b'));
    expect(a.seen).toHaveLength(2);
  });

  it('mark an upstream down when it answers slower than unhealthy_latency', async () => {
    const a = await httpUpstream('a', (req, res) => {
      req.resume();
      setTimeout(() => res.end('a'), 120);
    });
    const b = await httpUpstream('b');
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }, { dial: b.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' } },
      healthChecks: { passive: { failDuration: '30s', maxFails: 1, unhealthyLatency: '50ms' } },
    });
    expect(await answers(proxy.url, 3)).toEqual(['a', 'b', 'b']);
  });

  it('count a refused connection as a failure, and forget it after fail_duration', async () => {
    const a = await checked('a');
    const b = await checked('b');
    const proxy = await startProxy({
      upstreams: [{ dial: a.dial }, { dial: b.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 1, tryInterval: '0s' },
      healthChecks: { passive: { failDuration: '400ms', maxFails: 1 } },
    });
    expect(await answers(proxy.url, 1)).toEqual(['a']);
    a.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
    const downAt = performance.now();
    expect(await answers(proxy.url, 3)).toEqual(['b', 'b', 'b']);
    await new Promise<void>((r) => a.server.listen(a.port, '127.0.0.1', r));
    // The behaviour under test is expiry: a is tried again only once fail_duration has passed.
    expect(await answers(proxy.url, 1)).toEqual(['b']);
    await new Promise((r) => setTimeout(r, Math.max(0, 450 - (performance.now() - downAt))));
    expect(await answers(proxy.url, 1)).toEqual(['a']);
  });
});
