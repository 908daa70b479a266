/**
 * Upstreams whose dial holds a placeholder are made per request from request data, so a client
 * chooses how many there are (issue #13, item 5): what the proxy keeps for them must stay bounded.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startProxy } from './helpers/net.js';
import { httpUpstream } from '@ferry/test-kit/upstreams';
import { eventually } from '@ferry/test-kit/waiting';

/** GET through the proxy with `X-Host`, answered and read to the end; keeps no connection. */
function through(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { 'x-host': host } }, (res: IncomingMessage) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('error', reject);
    req.end();
  });
}

describe('upstreams dialled from request data', () => {
  it('keep at most 1,024 upstreams, and close the connections of those they drop', async () => {
    let open = 0;
    const up = await httpUpstream('any');
    up.server.on('connection', (socket) => {
      open++;
      socket.once('close', () => open--);
    });
    const proxy = await startProxy({ upstreams: [{ dial: `{http.request.header.X-Host}:${up.port}` }] });
    // 1,200 spellings of 127.0.0.1 (a leading zero makes a part octal: 01, 001, … are all 1),
    // each a distinct dial and so a distinct upstream with its own pool and keep-alive connection.
    const hosts = Array.from({ length: 1200 }, (_, i) => `127.0.0.${'0'.repeat(i)}1`);
    for (let i = 0; i < hosts.length; i += 50) {
      const statuses = await Promise.all(hosts.slice(i, i + 50).map((h) => through(proxy.url, h)));
      expect(statuses.every((s) => s === 200)).toBe(true);
    }
    expect(up.seen).toHaveLength(1200);
    await eventually(() => open <= 1024, 5000);
  });
});
