/**
 * rewrite (@ferry/core) in front of reverse_proxy (@ferry/proxy): the upstream receives the
 * rewritten method, path and query, the access log records the request as it came (as Caddy's),
 * and the SPA config `caddy adapt` produces (fixtures/spa.Caddyfile → fixtures/spa.caddy.json,
 * Caddy 2.6.2) runs unchanged through the `ferry` command, only its addresses made ephemeral.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createServer, path, rewrite, staticResponse } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';
import { configFile, Ferry } from '@ferry/test-kit/ferry';
import { defer } from '@ferry/test-kit/lifecycle';
import { freePort } from '@ferry/test-kit/ports';
import { serverStarter } from '@ferry/test-kit/servers';

const startServer = serverStarter(createServer);

interface Seen {
  method: string;
  url: string;
}

/** A node:http upstream that records each request's method and target and answers with a long text body. */
async function recordingUpstream(): Promise<{ dial: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end(`upstream saw ${req.method} ${req.url}\n${'x'.repeat(2000)}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  server.unref();
  return { dial: `127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rewrite in front of reverse_proxy', () => {
  it('the upstream receives the rewritten method, path and query', async () => {
    const up = await recordingUpstream();
    const server = await startServer({
      handler: [
        rewrite({ method: 'POST', stripPathPrefix: '/api', query: { set: [{ key: 'v', val: '2' }], delete: ['secret'] } }),
        reverseProxy({ upstreams: [{ dial: up.dial }] }),
      ],
    });
    const { res } = await get(`${server.url}/api/users/7?secret=1&page=3`);
    expect(res.statusCode).toBe(200);
    expect(up.seen).toEqual([{ method: 'POST', url: '/users/7?page=3&v=2' }]);
  });

  it('a rewrite guarded by a later path matcher: a query value cannot reach /admin on the upstream', async () => {
    const up = await recordingUpstream();
    const server = await startServer({
      routes: [
        { handle: [rewrite({ uri: '/files/{http.request.uri.query.f}' })] },
        { match: [path('/admin*')], handle: [staticResponse({ statusCode: 403 })], terminal: true },
        { handle: [reverseProxy({ upstreams: [{ dial: up.dial }] })] },
      ],
    });
    for (const f of ['../admin', '%2e%2e/admin', '..%2fadmin', '..\\admin', '../admin?x', '%2e%2e%2fadmin']) {
      const { res } = await get(`${server.url}/x?f=${encodeURIComponent(f)}`);
      if (res.statusCode === 403) continue;
      const last = up.seen.at(-1)!.url;
      expect(new URL(`http://u${last}`).pathname.toLowerCase().startsWith('/admin'), `${f} → ${last}`).toBe(false);
    }
    expect((await get(`${server.url}/x?f=..%2Fadmin`)).res.statusCode).toBe(403);
  });
});

/** The `caddy adapt` fixture with its listener and upstream made ephemeral, everything else as adapted. */
function adapted(port: number, dial: string, site: string, accessLog: boolean): unknown {
  const text = readFileSync(new URL('./fixtures/spa.caddy.json', import.meta.url), 'utf8');
  const config = JSON.parse(
    text
      .replace('":8080"', `"127.0.0.1:${port}"`)
      .replace('"127.0.0.1:9000"', JSON.stringify(dial))
      .replace('"./site"', JSON.stringify(site)),
  ) as { apps: { http: { servers: { srv0: { logs?: object; routes: unknown[] } } } } };
  if (accessLog) config.apps.http.servers.srv0.logs = {};
  return config;
}

/** The same config without its SPA route (file_server and the file matcher come with @ferry/files). */
function withoutSpaRoute(config: unknown): unknown {
  const c = config as { apps: { http: { servers: { srv0: { routes: unknown[] } } } } };
  c.apps.http.servers.srv0.routes = c.apps.http.servers.srv0.routes.slice(0, 2);
  return c;
}

describe('the SPA config from caddy adapt (encode zstd gzip; handle_path /api/* → reverse_proxy; try_files → file_server)', () => {
  async function run(config: unknown, port: number): Promise<Ferry> {
    const ferry = new Ferry(['run', '--config', configFile(config)]);
    await ferry.waitFor((e) => e.msg === 'listening' && e.port === port, 'it listened');
    return ferry;
  }

  it('/api/* is stripped of /api and proxied, compressed, and the access log records the original URI', async () => {
    const up = await recordingUpstream();
    const port = await freePort();
    const site = mkdtempSync(join(tmpdir(), 'ferry-spa-'));
    const ferry = await run(withoutSpaRoute(adapted(port, up.dial, site, true)), port);
    const { res, body } = await get(`http://127.0.0.1:${port}/api/users?page=2`, { 'accept-encoding': 'gzip' });
    expect(res.statusCode).toBe(200);
    expect(up.seen).toEqual([{ method: 'GET', url: '/users?page=2' }]);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(body).toString()).toMatch(/^upstream saw GET \/users\?page=2\n/);
    const line = await ferry.waitFor((e) => e.msg === 'handled request', 'the access log line');
    expect((line.request as { uri: string }).uri).toBe('/api/users?page=2');
  });

  it('the whole config runs unchanged: /api/* proxied, a file served, an unknown path falls back to /index.html, compressed', async () => {
    const up = await recordingUpstream();
    const port = await freePort();
    const site = mkdtempSync(join(tmpdir(), 'ferry-spa-'));
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>spa</title>');
    writeFileSync(join(site, 'app.js'), 'console.log("app");');
    await run(adapted(port, up.dial, site, false), port);
    const api = await get(`http://127.0.0.1:${port}/api/items`);
    expect(api.res.statusCode).toBe(200);
    expect(up.seen.at(-1)).toEqual({ method: 'GET', url: '/items' });
    const js = await get(`http://127.0.0.1:${port}/app.js`);
    expect(js.res.statusCode).toBe(200);
    expect(js.body.toString()).toBe('console.log("app");');
    const deep = await get(`http://127.0.0.1:${port}/some/client/route`);
    expect(deep.res.statusCode).toBe(200);
    expect(deep.body.toString()).toBe('<!doctype html><title>spa</title>');
    const big = 'x'.repeat(4096);
    writeFileSync(join(site, 'big.txt'), big);
    const zipped = await get(`http://127.0.0.1:${port}/big.txt`, { 'accept-encoding': 'gzip' });
    expect(zipped.res.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(big);
  });
});
