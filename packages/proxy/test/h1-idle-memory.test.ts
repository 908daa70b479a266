/**
 * Idle upstream connections keep at most MAX_IDLE_HELD read buffers between them (read_buffers.ts);
 * the others read into the shared `idleReads`. Node takes a connection's next buffer right after
 * each read, so without the bound a pooled 64 KiB one would stay with every kept connection until
 * it reads again. A burst that leaves hundreds of connections idle must leave no more buffers in
 * use than that, and the next responses on them (first reads copied out of the shared buffer) must
 * arrive whole.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_IDLE_HELD, ReadBuffer } from '../src/transport/read_buffers.js';
import { defer, startProxy } from './helpers/net.js';
import { collect } from '@ferry/test-kit/streams';
import { eventually } from '@ferry/test-kit/waiting';

const BURST = 200;
const body = Buffer.alloc(100_000, 'x');
for (let i = 0; i < body.length; i += 997) body[i] = 48 + ((i / 997) % 10);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('idle upstream connections', () => {
  it(`hold at most ${MAX_IDLE_HELD} read buffers once a burst of ${BURST} is over, and serve the next burst byte for byte`, async () => {
    // Answers once the whole burst is waiting: each request then has an upstream connection of its own.
    let waiting: (() => void)[] = [];
    const upstream = createServer((_req, res) => {
      waiting.push(() => {
        res.setHeader('content-length', body.length);
        res.end(body);
      });
      if (waiting.length < BURST) return;
      for (const answer of waiting) answer();
      waiting = [];
    });
    upstream.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    defer(() => {
      upstream.closeAllConnections();
      return new Promise((r) => upstream.close(() => r(undefined)));
    });
    const proxy = await startProxy({ upstreams: [{ dial: `127.0.0.1:${(upstream.address() as AddressInfo).port}` }] });
    const agent = new Agent({ keepAlive: true, maxSockets: BURST });
    defer(() => agent.destroy());

    const burst = () =>
      Promise.all(
        Array.from({ length: BURST }, async () => {
          const req = request(proxy.url, { agent });
          req.end();
          const [res] = (await once(req, 'response')) as [IncomingMessage];
          const got = await collect(res);
          expect(sha(got)).toBe(sha(body));
        }),
      );
    await burst();
    const conns = await new Promise<number>((r, j) => upstream.getConnections((err, n) => (err ? j(err) : r(n))));
    expect(conns).toBe(BURST);
    // Held bytes are released by the client writes' callbacks, which may still be queued.
    await eventually(
      () => ReadBuffer.inUse <= MAX_IDLE_HELD,
      2000,
      () => `${ReadBuffer.inUse} buffers in use with ${conns} idle connections`,
    );
    await burst();
    await eventually(
      () => ReadBuffer.inUse <= MAX_IDLE_HELD,
      2000,
      () => `${ReadBuffer.inUse} buffers in use after the second burst`,
    );
  });
});
