import { Agent, type IncomingMessage, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { call } from '../admin/helpers.js';
import { freePorts } from '@ferry/test-kit/ports';
import { bodyConfig, configFile, fromEvery, runWorkers } from './helpers.js';

const CLIENTS = 8;
const RELOADS = 10;

/** A GET on the client's one kept-alive connection: status, body, serving pid and the socket. */
function getVia(agent: Agent, port: number): Promise<{ status: number; body: string; pid: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent }, (res: IncomingMessage) => {
      // Read now: a kept-alive socket is detached from the response once it ends.
      const socket = res.socket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, pid: Number(res.headers['x-pid']), socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('reloads with --workers 2 under load', () => {
  it(`${CLIENTS} keep-alive clients through ${RELOADS} reloads: no failed request, no reset, every body an old or a new one`, async () => {
    const [port, adminPort] = await freePorts(2);
    const { pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'v0'))]);
    const version = (body: string) => (/^v\d+$/.test(body) ? Number(body.slice(1)) : NaN);
    const stats = { ok: 0, bad: [] as string[], errors: [] as string[], pids: new Set<number>(), sockets: new Set<Socket>(), backwards: 0 };
    let loaded = 0;
    let running = true;
    let waiter: { atLeast: number; resolve: () => void } | undefined;
    const client = async () => {
      // One connection per client: it stays with one worker, so its versions never go back.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      let last = 0;
      try {
        while (running) {
          try {
            const a = await getVia(agent, port);
            stats.pids.add(a.pid);
            stats.sockets.add(a.socket);
            const v = version(a.body);
            // Old or new: never something not yet loaded when the answer came.
            if (a.status === 200 && v >= 0 && v <= loaded) stats.ok++;
            else stats.bad.push(`${a.status} ${a.body}`);
            if (v < last) stats.backwards++;
            last = Math.max(last, v);
            if (waiter && stats.ok >= waiter.atLeast) waiter.resolve();
          } catch (err) {
            stats.errors.push((err as NodeJS.ErrnoException).code ?? String(err));
          }
        }
      } finally {
        agent.destroy();
      }
    };
    /** Resolves once `n` more requests have been answered. */
    const answered = (n: number) => new Promise<void>((resolve) => (waiter = { atLeast: stats.ok + n, resolve }));
    const clients = Array.from({ length: CLIENTS }, client);
    try {
      await answered(50);
      for (let i = 1; i <= RELOADS; i++) {
        // `loaded` counts a version as soon as it may be served, i.e. when the load is sent.
        loaded = i;
        expect(await call(adminPort, 'POST', '/load', bodyConfig(port, adminPort, `v${i}`))).toEqual({ status: 200, body: '' });
        await answered(50);
      }
    } finally {
      running = false;
      await Promise.all(clients);
    }
    expect(stats.errors).toEqual([]);
    expect(stats.bad).toEqual([]);
    expect(stats.backwards).toBe(0);
    expect(stats.ok).toBeGreaterThanOrEqual(50 * (RELOADS + 1));
    // Both workers had clients, and no client needed a second connection.
    expect(stats.pids).toEqual(new Set(pids));
    expect(stats.sockets.size).toBe(CLIENTS);
    for (const r of await fromEvery(port, pids)) expect(r).toMatchObject({ status: 200, body: `v${RELOADS}` });
  });
});
