/**
 * Ferry mounted in another server reads the request target as its own server does: a route that
 * blocks `/admin*` in front of `reverse_proxy` cannot be walked past by any spelling of the target
 * (escapes, dot segments, `\`, `#`, absolute-form) when Node's own http server parsed the request
 * and handed it to `toNodeHandler` — plain, and as Express middleware.
 */
import { once } from 'node:events';
import { createServer as httpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { path, staticResponse, toNodeHandler, type NodeListener } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';
import { ABSOLUTE_ADMIN, HOSTILE } from '../reliability/hostile-targets.js';

/** How a backend reads a forwarded path: WHATWG URL, percent-decoded (invalid UTF-8 as U+FFFD), lower-cased. */
function backendPath(url: string): string {
  const pathname = new URL(`http://upstream${url}`).pathname;
  const bytes = Buffer.from(
    pathname.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  );
  return bytes.toString('utf8').toLowerCase();
}

const seen: string[] = [];
let upstream: Server;
const servers: Server[] = [];
const listeners: NodeListener[] = [];

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

function blockingRoutes(upstreamPort: number): NodeListener {
  const listener = toNodeHandler({
    logger: false,
    routes: [
      { match: [path('/admin*')], handle: [staticResponse({ statusCode: 403, body: 'blocked' })], terminal: true },
      { handle: [reverseProxy({ upstreams: [{ dial: `127.0.0.1:${upstreamPort}` }] })] },
    ],
  });
  listeners.push(listener);
  return listener;
}

async function raw(port: number, target: string): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ok.example\r\nConnection: close\r\n\r\n`, 'latin1'));
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? 0);
}

let plainPort = 0;
let expressPort = 0;
beforeAll(async () => {
  upstream = httpServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('upstream');
  });
  const upstreamPort = await listen(upstream);
  plainPort = await listen(httpServer(blockingRoutes(upstreamPort)));
  const app = express();
  app.use(blockingRoutes(upstreamPort));
  expressPort = await listen(httpServer(app));
});
afterAll(async () => {
  for (const l of listeners) await l.close({ gracePeriod: 0 });
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

describe("toNodeHandler reads the target once, as Ferry's own server does", () => {
  for (const [where, port] of [
    ['http.createServer', () => plainPort],
    ['Express middleware', () => expressPort],
  ] as const) {
    it(`${where}: no spelling of /admin reaches the upstream as /admin`, async () => {
      for (const target of [...HOSTILE, ...ABSOLUTE_ADMIN]) {
        const before = seen.length;
        const status = await raw(port(), target);
        const got = seen.slice(before);
        if (status === 400 || status === 403) {
          expect(got, `${target}: refused (${status}), yet forwarded`).toEqual([]);
          continue;
        }
        expect(status, target).toBe(200);
        expect(got, target).toHaveLength(1);
        expect(backendPath(got[0]!).startsWith('/admin'), `${target} → ${got[0]}`).toBe(false);
        expect(got[0], `${target}: raw \\ or # forwarded`).not.toMatch(/[\\#]/);
      }
      // The plain spellings are the block route's.
      expect(await raw(port(), '/admin')).toBe(403);
      expect(await raw(port(), 'http://x/admin')).toBe(403);
    });
  }
});
