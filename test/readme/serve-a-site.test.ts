import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreModules, type FerryApp, loadConfig, Registry, silentLogger } from '@ferry/core';
import { encodeModule } from '@ferry/encode';
import { filesModules } from '@ferry/files';
import { reverseProxyModule } from '@ferry/proxy';
import { readmeExample } from '@ferry/test-kit/readme';

/** The site and the API both versions of getting-started's "Serve a site" run against. */
const site = mkdtempSync(join(tmpdir(), 'ferry-site-'));
const APP_JS = `console.log(${JSON.stringify('x'.repeat(2000))});\n`;
writeFileSync(join(site, 'index.html'), '<!doctype html><title>app</title><script src="/app.js"></script>\n');
writeFileSync(join(site, 'app.js'), APP_JS);
const seen: string[] = [];
const api = createHttpServer((req, res) => {
  seen.push(req.url ?? '');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ url: req.url }));
});

beforeAll(async () => {
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  process.env.API = `127.0.0.1:${(api.address() as AddressInfo).port}`;
  process.env.SITE = site;
});
afterAll(() => api.close());

const example = readmeExample(
  { example: new URL('./serve-a-site.ts', import.meta.url), readme: new URL('../../docs/getting-started.md', import.meta.url) },
  () => import('./serve-a-site.js'),
);

function get(url: string, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a site config must answer, whichever way it was written. */
async function servesTheSite(base: string): Promise<void> {
  const page = await get(`${base}/`);
  expect(page.res.statusCode).toBe(200);
  expect(page.res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.body.toString()).toContain('<title>app</title>');
  const deep = await get(`${base}/users/42/settings`);
  expect(deep.res.statusCode).toBe(200);
  expect(deep.body.toString()).toContain('<title>app</title>');
  const js = await get(`${base}/app.js`, { 'accept-encoding': 'gzip' });
  expect(js.res.headers['content-encoding']).toBe('gzip');
  expect(gunzipSync(js.body).toString()).toBe(APP_JS);
  const users = await get(`${base}/api/users?page=2`);
  expect(JSON.parse(users.body.toString())).toEqual({ url: '/users?page=2' });
  expect(seen.at(-1)).toBe('/users?page=2');
  // Nothing outside the site folder, however the path is spelled.
  for (const target of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd']) {
    expect((await get(`${base}${target}`)).body.toString()).not.toContain('root:');
  }
}

describe('getting-started: Serve a site', () => {
  it('shows the code exactly as this test runs it', () => {
    expect(example.readme).toContain(example.source.trim());
  });

  it('the code serves the app, its deep links, compressed files and the proxied API', async () => {
    await servesTheSite(example.server.url);
  });

  it("the config beside it (the section's JSON block) does the same", async () => {
    const section = example.readme.slice(example.readme.indexOf('## Serve a site'));
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    expect(json).toBeDefined();
    const config = JSON.parse(
      json!
        .replace('"127.0.0.1:8080"', '"127.0.0.1:0"')
        .replace('"127.0.0.1:9000"', JSON.stringify(process.env.API))
        .replace('"./dist"', JSON.stringify(site)),
    );
    config.admin = { disabled: true };
    const registry = new Registry([...coreModules, encodeModule, reverseProxyModule, ...filesModules]);
    const app: FerryApp = await loadConfig(config, { registry, logger: silentLogger() });
    try {
      await app.start();
      await servesTheSite(app.servers[0]!.url);
    } finally {
      await app.stop(0);
    }
  });
});
