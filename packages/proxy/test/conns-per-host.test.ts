/**
 * How many connections the proxy opens to one upstream (issue #13, item 4): Caddy's
 * `transport.max_conns_per_host`, and what `keep_alive.max_idle_conns_per_host` does and does not.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Middleware } from '@ferry/core';
import { capturedLogger, deferred, startProxy, wsClient } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { httpUpstream, wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { eventually } from '@ferry/test-kit/waiting';

/** An upstream that answers each request after `ms`, counting the connections it sees at once. */
async function slow(ms: number) {
  let open = 0;
  let peak = 0;
  let total = 0;
  const up = await httpUpstream('slow', (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    setTimeout(() => res.end('done'), ms);
  });
  up.server.on('connection', (socket) => {
    total++;
    peak = Math.max(peak, ++open);
    socket.once('close', () => open--);
  });
  return { ...up, peak: () => peak, total: () => total };
}

describe('transport.max_conns_per_host', () => {
  it('carries 50 concurrent slow requests over at most 4 connections, and answers all 50', async () => {
    const up = await slow(20);
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { maxConnsPerHost: 4 } });
    const replies = await Promise.all(Array.from({ length: 50 }, () => h1Get(proxy.url)));
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(replies.every((r) => r.body.toString() === 'done')).toBe(true);
    expect(up.seen).toHaveLength(50);
    expect(up.peak()).toBeLessThanOrEqual(4);
    expect(up.total()).toBeLessThanOrEqual(4);
  });

  it('lets a request waiting for a connection go as soon as its client leaves', async () => {
    const release = deferred<void>();
    const up = await httpUpstream('held', (req, res) => {
      req.resume();
      void release.promise.then(() => res.end('held'));
    });
    const { logger, lines } = capturedLogger();
    const entered = deferred<void>();
    const seeWaiter: Middleware = (req, res, next) => {
      if (req.url === '/waiting') entered.resolve();
      return next(req, res);
    };
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { maxConnsPerHost: 1 } }, { logger, before: [seeWaiter] });
    const first = h1Get(proxy.url);
    await eventually(() => up.seen.length === 1, 3000);
    const waiting = httpRequest(`${proxy.url}/waiting`, { agent: false });
    waiting.on('error', () => {});
    waiting.end();
    await entered.promise;
    waiting.destroy();
    // The only connection is still busy: the waiter is dropped now, not when the connection frees.
    await eventually(() => lines.some((l) => l.status === 499 && l.uri === '/waiting'), 3000);
    release.resolve();
    expect((await first).body.toString()).toBe('held');
    expect((await h1Get(proxy.url)).status).toBe(200);
    expect(up.seen.map((r) => r.url)).toEqual(['/', '/']);
  });

  it('is refused when negative, with its path', async () => {
    await expect(startProxy({ upstreams: [{ dial: '127.0.0.1:1' }], transport: { maxConnsPerHost: -1 } })).rejects.toThrow(
      /max_conns_per_host|maxConnsPerHost/,
    );
  });
});

describe('transport.keep_alive.max_idle_conns_per_host', () => {
  it('does not hold concurrent requests to that many connections (in Caddy it caps idle ones only)', async () => {
    const up = await slow(50);
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { keepAlive: { maxIdleConnsPerHost: 1 } } });
    const replies = await Promise.all(Array.from({ length: 8 }, () => h1Get(proxy.url)));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(up.peak()).toBeGreaterThan(1);
  });

  it('is accepted with a warning that names it', async () => {
    const { logger, lines } = capturedLogger();
    await startProxy({ upstreams: [{ dial: '127.0.0.1:1' }], transport: { keepAlive: { maxIdleConnsPerHost: 32 } } }, { logger });
    expect(lines.some((l) => l.level === 40 && String(l.msg).includes('max_idle_conns_per_host'))).toBe(true);
  });
});

describe('upgraded streams and the per-upstream limits', () => {
  it("count toward the upstream's max_requests while they last: the next WebSocket gets 503", async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial, maxRequests: 1 }] });
    const url = proxy.url.replace('http', 'ws');
    const first = await wsClient(url);
    const second = await wsClient(url).then(
      () => 'open',
      (err: Error) => err.message,
    );
    expect(second).toMatch(/503/);
    first.close();
    await once(first, 'close');
    // The count drops when the proxy has torn both sides down, a moment after the client saw its close.
    const deadline = performance.now() + 3000;
    for (;;) {
      const opened = await wsClient(url).then(
        () => true,
        () => false,
      );
      if (opened) break;
      if (performance.now() > deadline) throw new Error('the upstream stayed full after the first WebSocket closed');
    }
  });
});
