/**
 * canonical_uris after a rewrite, as Caddy (#4205): the trailing-slash redirect is judged on the
 * URI the client sent, and only when the rewrite kept its last element — a rewrite to another
 * name is the admin's choice and never redirects (nor loops), and a redirect goes to the
 * client's own path, not the rewritten one.
 */
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { makeSite, rawRequest, serveConfig, statusOf } from './helpers.js';

const FILES = {
  'index.html': 'the app',
  'app/index.html': 'app shell',
  'docs/index.html': 'docs',
  'listing/a.txt': 'a',
  'page.txt': 'page',
};

/** Rewrites in front of one file_server: a prefix stripped, paths sent to folders of other names. */
function site(root: string, extra: Record<string, unknown> = {}) {
  return {
    routes: [
      { match: [{ path: ['/static/*'] }], handle: [{ handler: 'rewrite', strip_path_prefix: '/static' }] },
      { match: [{ path: ['/some/*'] }], handle: [{ handler: 'rewrite', uri: '/app' }] },
      { match: [{ path: ['/list/*'] }], handle: [{ handler: 'rewrite', uri: '/listing' }] },
      { handle: [{ handler: 'file_server', root, ...extra }] },
    ],
  };
}

/** The SPA config as `caddy adapt` writes it: try_files {path} /index.html, rewrite, file_server. */
function spa(root: string) {
  return {
    routes: [
      {
        match: [{ file: { root, try_files: ['{http.request.uri.path}', '/index.html'] } }],
        handle: [{ handler: 'rewrite', uri: '{http.matchers.file.relative}' }],
      },
      { handle: [{ handler: 'file_server', root }] },
    ],
  };
}

describe('canonical_uris after a rewrite', () => {
  it('an SPA fallback to /index.html never redirects, with or without a trailing slash', async () => {
    const s = makeSite({ ...FILES, 'some/dir/other.txt': 'x' });
    const server = await serveConfig(spa(s.root));
    for (const path of ['/some/dir', '/some/dir/', '/users/42/', '/users/42?tab=1', '/a%2Fb/']) {
      const r = await h1Get(`${server.url}${path}`);
      expect([r.status, r.headers.location, r.body.toString()], path).toEqual([200, undefined, 'the app']);
    }
    // A file found by try_files keeps its name: asked for with a slash, it is redirected to the client's path without.
    expect((await h1Get(`${server.url}/page.txt`)).body.toString()).toBe('page');
    const slash = await h1Get(`${server.url}/page.txt/?q=1`);
    expect([slash.status, slash.headers.location]).toEqual([308, '/page.txt?q=1']);
  });

  it('a rewrite to a folder of another name serves its index instead of redirecting to the internal path', async () => {
    const s = makeSite(FILES);
    const server = await serveConfig(site(s.root));
    // Before: 308 to /app/, which the rewrite sends back to /app — a loop.
    for (const path of ['/some/dir', '/some/dir/', '/some/x?y=1']) {
      const r = await h1Get(`${server.url}${path}`);
      expect([r.status, r.headers.location, r.body.toString()], path).toEqual([200, undefined, 'app shell']);
    }
  });

  it('a rewrite to a folder of another name lists it (browse) instead of redirecting', async () => {
    const s = makeSite(FILES);
    const server = await serveConfig(site(s.root, { browse: {} }));
    const r = await h1Get(`${server.url}/list/x`, { headers: { accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body.toString()) as { name: string }[]).map((e) => e.name)).toEqual(['a.txt']);
  });

  it('a rewrite that keeps the last element redirects to the path the client sent, with its own query', async () => {
    const s = makeSite(FILES);
    const server = await serveConfig(site(s.root));
    const dir = await h1Get(`${server.url}/static/docs?x=1`);
    expect([dir.status, dir.headers.location]).toEqual([308, '/static/docs/?x=1']);
    const file = await h1Get(`${server.url}/static/page.txt/`);
    expect([file.status, file.headers.location]).toEqual([308, '/static/page.txt']);
    // Percent-encoding kept as sent.
    const encoded = await h1Get(`${server.url}/static/%64ocs`);
    expect([encoded.status, encoded.headers.location]).toEqual([308, '/static/%64ocs/']);
    expect((await h1Get(`${server.url}/static/docs/`)).body.toString()).toBe('docs');
    expect((await h1Get(`${server.url}/static/page.txt`)).body.toString()).toBe('page');
  });

  it('canonical_uris false: no redirect after a rewrite either', async () => {
    const s = makeSite(FILES);
    const server = await serveConfig(site(s.root, { canonical_uris: false }));
    expect((await h1Get(`${server.url}/static/docs`)).body.toString()).toBe('docs');
  });

  it('hostile original paths: a redirect never leaves the host, and nothing reads outside the root', async () => {
    const s = makeSite(FILES);
    const server = await serveConfig(site(s.root));
    const port = portOf(server);
    const slashes = await rawRequest(port, '//static/docs');
    expect(statusOf(slashes)).toBe(308);
    expect(slashes).toMatch(/\r\nlocation: \/static\/docs\/\r\n/i);
    for (const target of ['/static/..%2f..%2fsecret.txt', '/static/%2e%2e/%2e%2e/secret.txt', '/some/%2e%2e/secret.txt']) {
      const raw = await rawRequest(port, target);
      expect(raw, target).not.toContain('TOP-SECRET');
      expect(raw, target).not.toMatch(/\r\nlocation: \/\//i);
    }
  });
});
