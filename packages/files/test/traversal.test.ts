/**
 * No request reads outside the root: raw request targets (sent byte for byte on a socket, as no
 * client library would), symlinks that leave the root, hidden files, NUL bytes.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { portOf } from '@ferry/test-kit/servers';
import { fileServer } from '../src/index.js';
import { makeSite, rawRequest, SECRET, serve, serveConfig, statusOf } from './helpers.js';

/** Targets that try to climb out of root/ to ../secret.txt, each a different encoding. */
const TRAVERSALS = [
  '/../secret.txt',
  '/../../../../secret.txt',
  '/%2e%2e/secret.txt',
  '/%2E%2e/secret.txt',
  '/.%2e/secret.txt',
  '/..%2fsecret.txt',
  '/..%2Fsecret.txt',
  '/%2e%2e%2fsecret.txt',
  '/sub/..%2f..%2fsecret.txt',
  '/..%5csecret.txt',
  '/..\\secret.txt',
  '/%5c..%5csecret.txt',
  '/%252e%252e/secret.txt',
  '/%252e%252e%252fsecret.txt',
  '/..%00/secret.txt',
  '/secret.txt%00.html',
  '/%c0%ae%c0%ae/secret.txt',
  '//../secret.txt',
  '/./.././secret.txt',
  'http://127.0.0.1/../secret.txt',
  'http://127.0.0.1/%2e%2e/secret.txt',
  '/sub/%2e%2e/%2e%2e/secret.txt',
  '/sub/../../secret.txt',
];

describe('file_server never serves a file outside its root', () => {
  it(`answers ${TRAVERSALS.length} traversal targets without the secret placed beside the root`, async () => {
    const site = makeSite({ 'index.html': 'home', 'sub/page.txt': 'page' });
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
    const port = portOf(server);
    for (const target of TRAVERSALS) {
      const raw = await rawRequest(port, target);
      expect(raw, target).not.toContain(SECRET);
      // Each is answered (400, 404, or the site's own index for targets cleaned to /), never a crash.
      expect([200, 308, 400, 404], `${target}: ${raw.slice(0, 40)}`).toContain(statusOf(raw));
    }
    // The server still serves: none of those broke it.
    expect(await rawRequest(port, '/sub/page.txt')).toMatch(/\r\n\r\npage$/);
  });

  it('the same targets find the secret when it is inside the root, so the test can fail', async () => {
    // The control: with the secret's folder as root, a plain request reads it.
    const site = makeSite();
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.dir })] }] });
    expect(await rawRequest(portOf(server), '/secret.txt')).toContain(SECRET);
  });

  it('a NUL byte in the path is a 400, not a thrown fs error', async () => {
    const site = makeSite({ 'a.txt': 'a' });
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
    const raw = await rawRequest(portOf(server), '/a.txt%00');
    expect(statusOf(raw)).toBe(400);
  });

  it('a symlink to a file outside the root is 404; a symlink inside the root is served', async () => {
    const site = makeSite({ 'real.txt': 'inside' });
    symlinkSync(join(site.dir, 'secret.txt'), join(site.root, 'leak.txt'));
    symlinkSync(site.dir, join(site.root, 'up'));
    symlinkSync(join(site.root, 'real.txt'), join(site.root, 'alias.txt'));
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root, browse: {} })] }] });
    const port = portOf(server);
    for (const target of ['/leak.txt', '/up/secret.txt', '/up/', '/up']) {
      const raw = await rawRequest(port, target);
      expect(statusOf(raw), target).toBe(404);
      expect(raw).not.toContain(SECRET);
    }
    expect(await rawRequest(port, '/alias.txt')).toMatch(/\r\n\r\ninside$/);
  });

  it('follow_symlinks_outside_root: true serves a link out of the root, as Caddy always does', async () => {
    const site = makeSite();
    symlinkSync(join(site.dir, 'secret.txt'), join(site.root, 'leak.txt'));
    const server = await serveConfig({
      routes: [{ handle: [{ handler: 'file_server', root: site.root, follow_symlinks_outside_root: true }] }],
    });
    expect(await rawRequest(portOf(server), '/leak.txt')).toContain(SECRET);
  });

  it('hide: files by name anywhere, by glob, and by path are 404, listed nowhere, and not served as index', async () => {
    const site = makeSite({
      '.env': 'KEY=1',
      'a/.git/config': 'git',
      'notes.bak': 'bak',
      'private/x.txt': 'private',
      'dir/index.html': 'hidden index',
      'dir/index.txt': 'shown index',
      'ok.txt': 'ok',
    });
    const server = await serve({
      routes: [
        {
          handle: [
            fileServer({
              root: site.root,
              hide: ['.env', '.git', '*.bak', join(site.root, 'private'), join(site.root, 'dir/index.html')],
              browse: {},
            }),
          ],
        },
      ],
    });
    const port = portOf(server);
    for (const target of ['/.env', '/a/.git/config', '/notes.bak', '/private/x.txt', '/private/', '/%2eenv', '/dir/index.html']) {
      expect(statusOf(await rawRequest(port, target)), target).toBe(404);
    }
    expect(await rawRequest(port, '/dir/')).toMatch(/\r\n\r\nshown index$/);
    const listing = await rawRequest(port, '/', 'Accept: application/json\r\n');
    expect(listing).toContain('"ok.txt"');
    expect(listing).not.toContain('.env');
    expect(listing).not.toContain('notes.bak');
    expect(listing).not.toContain('"private"');
  });
});
