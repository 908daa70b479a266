import { Agent, get, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, coreModules, defineModule, Registry, z } from '@ferry/core';
import { deferred } from '@ferry/test-kit/lifecycle';
import { call, config, portOf, served, startApp } from './helpers.js';
import { freePorts, refused, untilRefused } from '@ferry/test-kit/ports';

/**
 * A handler the test controls: answers its `tag`; on /hold it first tells `entered` and waits for
 * `gate`. Its cleanup (run on reload once its requests drained) records the tag.
 */
const control = { entered: deferred(), gate: deferred(), cleaned: [] as string[], onClean: () => {} };
const held = defineModule({
  id: 'http.handlers.test_held',
  config: z.strictObject({ tag: z.string() }),
  provision({ tag }, ctx) {
    ctx.onCleanup(() => {
      control.cleaned.push(tag);
      control.onClean();
    });
    return async (req, res) => {
      if (req.path === '/hold') {
        res.write(`${tag}:`);
        control.entered.resolve();
        await control.gate.promise;
      }
      res.end(tag);
    };
  },
});
const registry = new Registry([...coreModules, held]);

function heldConfig(tag: string) {
  return { apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'test_held', tag }] }] } } } } };
}

/** GET on a socket of `agent`: status, body and the socket it used. */
function getVia(agent: Agent, port: number, path = '/'): Promise<{ status: number; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res: IncomingMessage) => {
      // Read now: a kept-alive socket is detached from the response once it ends.
      const socket = res.socket;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('FerryApp.reload: zero downtime', () => {
  it('serves 10 keep-alive clients through 20 reloads with no failed request and no new connection', async () => {
    const app = await startApp(config('v0'));
    const port = portOf(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const versions = new Set(Array.from({ length: 21 }, (_, i) => `v${i}`));
    const stats = { ok: 0, bad: [] as string[], errors: [] as string[], bodies: new Set<string>(), sockets: new Set<Socket>() };
    let running = true;
    let waiter: { atLeast: number; resolve: () => void } | undefined;
    const client = async () => {
      while (running) {
        try {
          const a = await getVia(agent, port);
          stats.sockets.add(a.socket);
          stats.bodies.add(a.body);
          if (a.status === 200 && versions.has(a.body)) stats.ok++;
          else stats.bad.push(`${a.status} ${a.body}`);
          if (waiter && stats.ok >= waiter.atLeast) waiter.resolve();
        } catch (err) {
          stats.errors.push((err as NodeJS.ErrnoException).code ?? String(err));
        }
      }
    };
    /** Resolves once `n` more requests have been answered. */
    const answered = (n: number) => new Promise<void>((resolve) => (waiter = { atLeast: stats.ok + n, resolve }));
    const clients = Array.from({ length: 10 }, client);
    try {
      await answered(20);
      for (let i = 1; i <= 20; i++) {
        await app.reload(config(`v${i}`));
        expect(portOf(app)).toBe(port);
        await answered(20);
      }
    } finally {
      running = false;
      await Promise.all(clients);
      agent.destroy();
    }
    expect(stats.errors).toEqual([]);
    expect(stats.bad).toEqual([]);
    expect(stats.ok).toBeGreaterThanOrEqual(420);
    expect(stats.bodies.has('v20')).toBe(true);
    // The listener and the keep-alive connections were kept through every reload.
    expect(stats.sockets.size).toBeLessThanOrEqual(10);
    expect(await served(port)).toBe('v20');
  });

  it('lets an in-flight request finish on the old routes, and cleans them up only after it drained', async () => {
    control.entered = deferred();
    control.gate = deferred();
    control.cleaned = [];
    const cleanedOld = deferred();
    control.onClean = () => {
      if (control.cleaned.includes('old')) cleanedOld.resolve();
    };
    const app = await startApp(heldConfig('old'), { registry });
    const port = portOf(app);
    const inFlight = call(port, 'GET', '/hold');
    await control.entered.promise;

    await app.reload(heldConfig('new'));
    expect(await served(port)).toBe('new');
    expect(app.server('s')!.activeRequests).toBe(1);
    expect(control.cleaned).toEqual([]);

    control.gate.resolve();
    expect(await inFlight).toEqual({ status: 200, body: 'old:old' });
    await cleanedOld.promise;
    expect(control.cleaned).toEqual(['old']);
    expect(await served(port)).toBe('new');
  });

  it('cleans up the old routes at once when nothing is in flight', async () => {
    control.cleaned = [];
    const cleaned = deferred();
    control.onClean = () => cleaned.resolve();
    const app = await startApp(heldConfig('a'), { registry });
    await app.reload(heldConfig('b'));
    await cleaned.promise;
    expect(control.cleaned).toEqual(['a']);
    expect(await served(portOf(app))).toBe('b');
  });

  it('moves a server whose listen address changes: the old port refuses, the new one serves', async () => {
    const [p1, p2] = await freePorts(2);
    const app = await startApp(config('first', `127.0.0.1:${p1}`));
    expect(await served(p1)).toBe('first');
    await app.reload(config('second', `127.0.0.1:${p2}`));
    await untilRefused(p1);
    expect(await served(p2)).toBe('second');
    expect(portOf(app)).toBe(p2);
  });

  it('changes nothing when the new config is refused', async () => {
    const app = await startApp(config('kept'));
    const port = portOf(app);
    const bad = config('never', '127.0.0.1:0');
    bad.apps.http.servers.s.routes[0]!.handle[0]!.handler = 'no_such_handler';
    await expect(app.reload(bad)).rejects.toBeInstanceOf(ConfigError);
    expect(portOf(app)).toBe(port);
    expect(await refused(port)).toBe(false);
    expect(await served(port)).toBe('kept');
    expect(app.config).toEqual(config('kept'));
    // A later good load still applies (the queue is not stuck on the failed one).
    await app.reload(config('later'));
    expect(await served(port)).toBe('later');
  });
});
