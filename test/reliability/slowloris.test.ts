/**
 * Slowloris: 500 raw connections dribble a request line one byte per second. The server must keep
 * serving normal clients promptly, close every dribbling connection once `readHeaderTimeout`
 * (2 s, checked every 500 ms) has passed, and come out of it with nothing in flight.
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, staticResponse, type FerryServer } from '@ferry/core';

const SLOW = 500;
const NORMAL = 20;
const HEADER_TIMEOUT_MS = 2000;
/** What the test tolerates past readHeaderTimeout for the server's periodic check (every 500 ms here). */
const CLOSE_DEADLINE_MS = 6000;
const PARTIAL = `GET /slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Dribble: ${'a'.repeat(64)}`;

let server: FerryServer | undefined;
const sockets: Socket[] = [];
let ticker: NodeJS.Timeout | undefined;

afterEach(async () => {
  if (ticker) clearInterval(ticker);
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close({ gracePeriod: 0 });
  server = undefined;
});

function get(port: number, agent: Agent): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.setTimeout(2000, () => req.destroy(new Error('normal request timed out')));
    req.on('error', reject);
    req.end();
  });
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

describe('slowloris (readHeaderTimeout: 2s)', () => {
  it(`closes ${SLOW} dribbling connections after the header timeout while serving normal clients`, async () => {
    server = createServer({ listen: '127.0.0.1:0', logger: false, readHeaderTimeout: '2s', handler: [staticResponse({ body: 'ok' })] });
    await server.listen();
    const port = server.addresses[0]!.port;

    // Open the slow connections; each remembers when it connected, when it closed, what it got.
    const t0 = performance.now();
    const state = Array.from({ length: SLOW }, () => ({ connectedAt: 0, closedAt: 0, sent: 0, received: '' }));
    const closed: Promise<void>[] = [];
    await Promise.all(
      state.map(async (st) => {
        const s = connect({ host: '127.0.0.1', port });
        sockets.push(s);
        s.on('error', () => {});
        s.on('data', (c: Buffer) => (st.received += c.toString('latin1')));
        closed.push(
          new Promise((resolve) =>
            s.once('close', () => {
              st.closedAt = performance.now();
              resolve();
            }),
          ),
        );
        await once(s, 'connect');
        st.connectedAt = performance.now();
        s.write(PARTIAL[0]!);
        st.sent = 1;
      }),
    );
    const connectMs = performance.now() - t0;

    // One shared ticker dribbles one more byte on every live slow socket, each second.
    ticker = setInterval(() => {
      sockets.forEach((s, i) => {
        const st = state[i]!;
        if (s.destroyed || !s.writable || st.sent >= PARTIAL.length) return;
        s.write(PARTIAL[st.sent++]!);
      });
    }, 1000);

    // Meanwhile a normal client (fresh agent, no keep-alive) is served promptly, requests spread
    // over ~1 s so they run while the slow connections are all still open.
    const agent = new Agent({ keepAlive: false });
    const normal: { status: number; body: string; ms: number }[] = [];
    for (let i = 0; i < NORMAL; i++) {
      normal.push(await get(port, agent));
      await new Promise((r) => setTimeout(r, 50));
    }
    const openDuringNormal = state.filter((st) => st.closedAt === 0).length;
    for (const r of normal) {
      expect(r.status).toBe(200);
      expect(r.body).toBe('ok');
      expect(r.ms).toBeLessThan(500);
    }

    // Every slow connection is closed by the server (not by us: we never end or destroy them).
    await withDeadline(Promise.all(closed), CLOSE_DEADLINE_MS, 'slow connections closed');
    const lifetimes = state.map((st) => st.closedAt - st.connectedAt);
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 100);
    expect(Math.max(...lifetimes)).toBeLessThan(CLOSE_DEADLINE_MS);
    // Node's timeout check answers 408 before closing (our clientError handler).
    const with408 = state.filter((st) => /^HTTP\/1\.1 408 /.test(st.received)).length;
    expect(state.every((st) => st.received === '' || /^HTTP\/1\.1 408 /.test(st.received))).toBe(true);

    // Nothing in flight, and still serving.
    expect(server.activeRequests).toBe(0);
    const after = await get(port, agent);
    expect(after.status).toBe(200);
    expect(after.body).toBe('ok');
    agent.destroy();

    const ms = normal.map((r) => r.ms);
    console.log(
      `[slowloris] ${SLOW} slow conns opened in ${connectMs.toFixed(0)} ms; ${openDuringNormal} still open after the normal requests; ` +
        `normal x${NORMAL}: p50 ${pct(ms, 50).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms; ` +
        `slow lifetime min ${Math.min(...lifetimes).toFixed(0)} / p50 ${pct(lifetimes, 50).toFixed(0)} / max ${Math.max(...lifetimes).toFixed(0)} ms ` +
        `(readHeaderTimeout ${HEADER_TIMEOUT_MS}); ${with408}/${SLOW} got a 408; after: ${after.ms.toFixed(1)} ms`,
    );
  });
});
