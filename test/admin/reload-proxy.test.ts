import { once } from 'node:events';
import { Agent, createServer as createHttpServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { coreModules, Registry } from '@ferry/core';
import { reverseProxyModule } from '@ferry/proxy';
import { defer } from '@ferry/test-kit/lifecycle';
import { portOf, startApp } from './helpers.js';

const registry = new Registry([...coreModules, reverseProxyModule]);

function proxyConfig(version: number, upstream: number) {
  return {
    apps: {
      http: {
        servers: {
          s: {
            listen: ['127.0.0.1:0'],
            routes: [
              {
                match: [{ path: ['/p/*'] }],
                handle: [
                  {
                    handler: 'reverse_proxy',
                    upstreams: [{ dial: `127.0.0.1:${upstream}` }],
                    headers: { response: { set: { 'X-Version': [`v${version}`] } } },
                  },
                ],
                terminal: true,
              },
              { handle: [{ handler: 'static_response', body: `v${version}` }] },
            ],
          },
        },
      },
    },
  };
}

function getVia(agent: Agent, port: number, path: string): Promise<{ status: number; body: string; version: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent }, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, version: res.headers['x-version'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

it('proxied and static requests from 10 keep-alive clients all succeed through 20 reloads, no connection reset', async () => {
  const upstream = createHttpServer((req, res) => res.end(`up ${req.url}`));
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  defer(() => new Promise((r) => upstream.close(r)));
  const upPort = (upstream.address() as AddressInfo).port;

  const app = await startApp(proxyConfig(0, upPort), { registry });
  const port = portOf(app);
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  defer(() => agent.destroy());
  const stats = { ok: 0, bad: [] as string[], errors: [] as string[] };
  let running = true;
  let waiter: { atLeast: number; resolve: () => void } | undefined;
  const client = async (n: number) => {
    for (let i = 0; running; i++) {
      const proxied = (i + n) % 2 === 0;
      try {
        const r = await getVia(agent, port, proxied ? `/p/${i}` : '/');
        const good = proxied
          ? r.status === 200 && r.body === `up /p/${i}` && /^v\d+$/.test(r.version ?? '')
          : r.status === 200 && /^v\d+$/.test(r.body);
        if (good) stats.ok++;
        else stats.bad.push(`${r.status} ${r.body}`);
        if (waiter && stats.ok >= waiter.atLeast) waiter.resolve();
      } catch (err) {
        stats.errors.push((err as NodeJS.ErrnoException).code ?? String(err));
      }
    }
  };
  const answered = (n: number) => new Promise<void>((resolve) => (waiter = { atLeast: stats.ok + n, resolve }));
  const clients = Array.from({ length: 10 }, (_, n) => client(n));
  try {
    await answered(20);
    for (let v = 1; v <= 20; v++) {
      await app.reload(proxyConfig(v, upPort));
      await answered(20);
    }
  } finally {
    running = false;
    await Promise.all(clients);
  }
  expect(stats.errors).toEqual([]);
  expect(stats.bad).toEqual([]);
  expect(stats.ok).toBeGreaterThanOrEqual(420);
});
