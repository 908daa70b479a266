/** The host's `config.file` service: every file_server (and spa()) hides that file, its name taken literally. */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { spa } from '../src/index.js';
import { makeSite, serve, serveConfig } from './helpers.js';

describe('the config file is hidden', () => {
  it('a name with glob characters hides that file only, in files and listings', async () => {
    const site = makeSite({ '[a].json': 'secret', 'a.json': 'ok', 'x.json': 'ok' });
    const server = await serveConfig(
      { routes: [{ handle: [{ handler: 'file_server', root: site.root, browse: {} }] }] },
      { 'config.file': join(site.root, '[a].json') },
    );
    expect((await h1Get(`${server.url}/%5Ba%5D.json`)).status).toBe(404);
    expect((await h1Get(`${server.url}/a.json`)).body.toString()).toBe('ok');
    const list = await h1Get(`${server.url}/`, { headers: { accept: 'application/json' } });
    expect((JSON.parse(list.body.toString()) as { name: string }[]).map((e) => e.name)).toEqual(['a.json', 'x.json']);
  });

  it('a symlink inside the root that leads to the config file (or to a hidden name) serves nothing', async () => {
    const site = makeSite({ 'ferry.json': 'secret', 'notes.txt': 'ok', '.env': 'TOKEN=1' });
    symlinkSync(join(site.root, 'ferry.json'), join(site.root, 'innocent.txt'));
    symlinkSync(join(site.root, '.env'), join(site.root, 'env.txt'));
    symlinkSync(join(site.root, 'notes.txt'), join(site.root, 'also-notes.txt'));
    const server = await serveConfig(
      { routes: [{ handle: [{ handler: 'file_server', root: site.root, hide: ['.env'] }] }] },
      { 'config.file': join(site.root, 'ferry.json') },
    );
    expect((await h1Get(`${server.url}/innocent.txt`)).status).toBe(404);
    expect((await h1Get(`${server.url}/env.txt`)).status).toBe(404);
    // A link to a file that is not hidden is served as before.
    expect((await h1Get(`${server.url}/also-notes.txt`)).body.toString()).toBe('ok');
  });

  it('without the service nothing is hidden', async () => {
    const site = makeSite({ 'ferry.json': '{}' });
    const server = await serveConfig({ routes: [{ handle: [{ handler: 'file_server', root: site.root }] }] });
    expect((await h1Get(`${server.url}/ferry.json`)).status).toBe(200);
  });

  it('spa() hides it too, and answers its index instead', async () => {
    const site = makeSite({ 'index.html': 'app', 'ferry.json': 'secret' });
    const server = await serve({
      listen: '127.0.0.1:0',
      services: { 'config.file': join(site.root, 'ferry.json') },
      routes: [{ handle: [spa({ root: site.root })] }],
    });
    const r = await h1Get(`${server.url}/ferry.json`);
    expect([r.status, r.body.toString()]).toEqual([200, 'app']);
  });
});
