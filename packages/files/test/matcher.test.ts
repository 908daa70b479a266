/** The file matcher (try_files, try_policy, split_path, =404, its placeholders) and spa(), from config and code. */
import { execFileSync } from 'node:child_process';
import { symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { staticResponse } from '@ferry/core';
import { file, spa } from '../src/index.js';
import { makeSite, rawRequest, SECRET, serve, serveConfig } from './helpers.js';

const SHOW =
  'rel={http.matchers.file.relative} abs={http.matchers.file.absolute} type={http.matchers.file.type} rest={http.matchers.file.remainder}';

function matching(match: Record<string, unknown>) {
  return {
    routes: [
      { match: [{ file: match }], handle: [{ handler: 'static_response', body: SHOW }], terminal: true },
      { handle: [{ handler: 'static_response', status_code: 404, body: 'no match' }] },
    ],
  };
}

describe('the file matcher', () => {
  it('by default tries the request path, and sets relative, absolute, type and remainder', async () => {
    const site = makeSite({ 'a.txt': 'a', 'dir/x': 'x' });
    const server = await serveConfig(matching({ root: site.root }));
    expect((await h1Get(`${server.url}/a.txt`)).body.toString()).toBe(`rel=/a.txt abs=${site.root}/a.txt type=file rest=`);
    expect((await h1Get(`${server.url}/b.txt`)).body.toString()).toBe('no match');
    // A folder matches only an entry that ends with a slash (the path is cleaned, as in Caddy).
    expect((await h1Get(`${server.url}/dir/`)).body.toString()).toBe('no match');
    const dirs = await serveConfig(matching({ root: site.root, try_files: ['{http.request.uri.path}/'] }));
    expect((await h1Get(`${dirs.url}/dir`)).body.toString()).toBe(`rel=/dir/ abs=${site.root}/dir/ type=directory rest=`);
    expect((await h1Get(`${dirs.url}/a.txt`)).body.toString()).toBe('no match');
  });

  it('try_files with placeholders, first_exist: the first that exists; the SPA fallback', async () => {
    const site = makeSite({ 'index.html': 'app', 'page.html': 'p' });
    const server = await serveConfig(
      matching({ root: site.root, try_files: ['{http.request.uri.path}', '{http.request.uri.path}.html', '/index.html'] }),
    );
    expect((await h1Get(`${server.url}/page`)).body.toString()).toContain('rel=/page.html ');
    expect((await h1Get(`${server.url}/deep/client/route`)).body.toString()).toContain('rel=/index.html ');
  });

  // Windows has neither FIFOs made by mkfifo nor /dev/null.
  it.skipIf(process.platform === 'win32')(
    'try_files passes over what is not a regular file (a FIFO, a device), as file_server serves none',
    async () => {
      const site = makeSite({ 'index.html': 'app' });
      execFileSync('mkfifo', [join(site.root, 'pipe')]);
      symlinkSync('/dev/null', join(site.root, 'null'));
      const server = await serveConfig(matching({ root: site.root, try_files: ['{http.request.uri.path}', '/index.html'] }));
      for (const path of ['/pipe', '/null'])
        expect((await h1Get(`${server.url}${path}`)).body.toString(), path).toContain('rel=/index.html ');
    },
  );

  it('=404 in try_files ends the search with that error, through the error routes', async () => {
    const site = makeSite({ 'a.txt': 'a' });
    const server = await serveConfig({
      ...matching({ root: site.root, try_files: ['{http.request.uri.path}', '=410'] }),
      errors: { routes: [{ handle: [{ handler: 'static_response', body: 'error {http.error.status_code}' }] }] },
    });
    expect((await h1Get(`${server.url}/a.txt`)).status).toBe(200);
    const gone = await h1Get(`${server.url}/b.txt`);
    expect([gone.status, gone.body.toString()]).toEqual([410, 'error 410']);
  });

  it('try_policy picks the smallest, the largest or the most recently modified', async () => {
    const site = makeSite({ 's.txt': '1', 'l.txt': '1234567', 'm.txt': '123' });
    utimesSync(`${site.root}/s.txt`, new Date(1e12), new Date(1e12));
    utimesSync(`${site.root}/l.txt`, new Date(1.5e12), new Date(1.5e12));
    utimesSync(`${site.root}/m.txt`, new Date(1.7e12), new Date(1.7e12));
    const tries = ['/l.txt', '/missing.txt', '/s.txt', '/m.txt'];
    for (const [policy, want] of [
      ['first_exist', '/l.txt'],
      ['smallest_size', '/s.txt'],
      ['largest_size', '/l.txt'],
      ['most_recently_modified', '/m.txt'],
    ]) {
      const server = await serveConfig(matching({ root: site.root, try_files: tries, try_policy: policy }));
      expect((await h1Get(`${server.url}/`)).body.toString(), policy).toContain(`rel=${want} `);
    }
  });

  it('split_path splits at a delimiter that ends a segment, and keeps the remainder', async () => {
    const site = makeSite({ 'index.php': '<?php', 'a.phpx/b': 'x' });
    const server = await serveConfig(matching({ root: site.root, split_path: ['.PHP'] }));
    expect((await h1Get(`${server.url}/index.php/a/b`)).body.toString()).toBe(
      `rel=/index.php abs=${site.root}/index.php type=file rest=/a/b`,
    );
    expect((await h1Get(`${server.url}/a.phpx/b`)).body.toString()).toContain('rel=/a.phpx/b ');
  });

  it('try_files cannot leave the root, whatever the path or placeholder says', async () => {
    const site = makeSite();
    const server = await serveConfig(matching({ root: site.root, try_files: ['{http.request.uri.path}', '{http.request.header.x-file}'] }));
    expect((await h1Get(`${server.url}/`, { headers: { 'x-file': '../secret.txt' } })).body.toString()).toBe('no match');
    expect(await rawRequest(portOf(server), '/..%2fsecret.txt')).toContain('no match');
  });

  it('file({ tryFiles }) in code, and its placeholders have no value for requests it did not match (left as written, as in Caddy)', async () => {
    const site = makeSite({ 'a.txt': 'a' });
    const server = await serve({
      routes: [
        {
          match: [file({ root: site.root, tryFiles: ['{http.request.uri.path}'] })],
          handle: [staticResponse({ body: SHOW })],
          terminal: true,
        },
        { handle: [staticResponse({ body: `miss: [${SHOW}]` })] },
      ],
    });
    expect((await h1Get(`${server.url}/a.txt`)).body.toString()).toContain('rel=/a.txt ');
    expect((await h1Get(`${server.url}/b.txt`)).body.toString()).toBe(`miss: [${SHOW}]`);
  });
});

describe('spa()', () => {
  it('serves files that exist, and index.html for any other path (GET), never a file outside root', async () => {
    const site = makeSite({ 'index.html': '<div id=app>', 'assets/app.js': 'js' });
    const server = await serve({ routes: [{ handle: [spa({ root: site.root })] }] });
    const js = await h1Get(`${server.url}/assets/app.js`);
    expect([js.status, js.body.toString(), js.headers['content-type']]).toEqual([200, 'js', 'text/javascript; charset=utf-8']);
    for (const path of ['/', '/users/42', '/deep/link/x?q=1']) {
      const r = await h1Get(`${server.url}${path}`);
      expect([r.status, r.body.toString()], path).toEqual([200, '<div id=app>']);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    }
    expect(await rawRequest(portOf(server), '/%2e%2e/secret.txt')).not.toContain(SECRET);
  });

  it('a custom index; no index file at all is a 404', async () => {
    const site = makeSite({ 'app.html': 'custom' });
    const server = await serve({ routes: [{ handle: [spa({ root: site.root, index: 'app.html' })] }] });
    expect((await h1Get(`${server.url}/anything`)).body.toString()).toBe('custom');
    const bare = await serve({ routes: [{ handle: [spa({ root: site.root })] }] });
    expect((await h1Get(`${bare.url}/anything`)).status).toBe(404);
  });
});
