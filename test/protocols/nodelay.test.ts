/**
 * Every accepted socket gets TCP_NODELAY, whatever the path. Node sets it for plain HTTP only:
 * over TLS, a response written as a head and then a small body waited for the client's delayed
 * ACK (~40 ms) under Nagle's algorithm (measured here: 44 ms per request, HTTP/1.1 on an h2 TLS port) — curl's response head arrived 44 ms late, Go's duplex
 * client saw 41–47 ms per echo.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Handler } from '@ferry/core';
import { defer, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { collect } from '@ferry/test-kit/streams';

/** The head goes out on its own, then a small body a moment later: the pattern Nagle delays. */
const headThenBody: Handler = async (_req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.flushHeaders();
  await new Promise((r) => setImmediate(r));
  res.write('a');
  await new Promise((r) => setImmediate(r));
  res.end('b');
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('TCP_NODELAY on every connection', () => {
  it('HTTP/1.1 over TLS (beside h2, by ALPN): a head and two small writes arrive without a delayed-ACK wait', async () => {
    const { tls: tlsOptions, ca } = certificates();
    const server = await startServer({ tls: tlsOptions, handler: headThenBody });
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    defer(() => agent.destroy());
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      const req = httpsRequest({ host: '127.0.0.1', port: server.addresses[0]!.port, path: '/', agent, servername: 'localhost' });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      expect((await collect(res)).toString()).toBe('ab');
      times.push(performance.now() - started);
    }
    // With Nagle each exchange waits ~40 ms for the client's delayed ACK; without, about 1 ms.
    console.log(`[nodelay] h1/TLS median ${median(times).toFixed(1)} ms over ${times.length} requests`);
    expect(median(times)).toBeLessThan(20);
  });
});
