import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { Ferry } from '@ferry/test-kit/ferry';
import { freePorts } from '@ferry/test-kit/ports';

/**
 * Issue 18: as Caddy, file_server never serves the config file it runs from — `ferry run --config
 * X` tells modules X's path (the `config.file` service), and every file_server hides it, from
 * listings too. Through the real CLI, relative and absolute --config, in one process and in workers.
 */

const SECRET = 'config-secret-7c1e';

/** A folder served with browse, the config file to go inside it (the secret in it), and a file beside it. */
function site(listen: string, admin: unknown = { disabled: true }) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-hide-'));
  writeFileSync(join(dir, 'a.txt'), 'a');
  mkdirSync(join(dir, 'sub'));
  const routes = [
    // Never matched: it puts the secret in the config file, where a served config would show it.
    { match: [{ path: [`/unreachable-${SECRET}`] }], handle: [{ handler: 'static_response', body: 'x' }], terminal: true },
    { handle: [{ handler: 'file_server', root: dir, browse: {} }] },
  ];
  const config = { admin, apps: { http: { servers: { srv0: { listen: [listen], routes } } } } };
  return { dir, text: JSON.stringify(config) };
}

async function expectHidden(base: string, name: string) {
  for (const path of [`/${name}`, `/./${name}`, `/sub/../${name}`, `/%2e/${name}`, `/${encodeURIComponent(name).replace(/^f/, '%66')}`]) {
    const r = await h1Get(`${base}${path}`);
    expect(r.status, path).toBe(404);
    expect(r.body.toString(), path).not.toContain(SECRET);
  }
  const html = await h1Get(`${base}/`);
  expect(html.status).toBe(200);
  expect(html.body.toString()).toContain('a.txt');
  expect(html.body.toString()).not.toContain(name);
  const json = await h1Get(`${base}/`, { headers: { accept: 'application/json' } });
  expect((JSON.parse(json.body.toString()) as { name: string }[]).map((e) => e.name).sort()).toEqual(['a.txt', 'sub']);
  expect((await h1Get(`${base}/a.txt`)).body.toString()).toBe('a');
}

describe('file_server hides the config file ferry runs from', () => {
  it('with a relative --config: 404 by any spelling, and left out of listings', async () => {
    const { dir, text } = site('127.0.0.1:0');
    writeFileSync(join(dir, 'ferry.json'), text);
    const ferry = new Ferry(['run', '--config', 'ferry.json'], {}, dir);
    const line = await ferry.waitFor((e) => e.msg === 'listening', 'listening');
    await expectHidden(`http://127.0.0.1:${line.port as number}`, 'ferry.json');
  });

  it('with an absolute --config reached through a symlink: both names hidden', async () => {
    const { dir, text } = site('127.0.0.1:0');
    writeFileSync(join(dir, 'real.json'), text);
    const link = join(mkdtempSync(join(tmpdir(), 'ferry-link-')), 'ferry.json');
    symlinkSync(join(dir, 'real.json'), link);
    const ferry = new Ferry(['run', '--config', link]);
    const line = await ferry.waitFor((e) => e.msg === 'listening', 'listening');
    await expectHidden(`http://127.0.0.1:${line.port as number}`, 'real.json');
  });

  it('under --workers: every worker hides it', async () => {
    const [port, admin] = await freePorts(2);
    const { dir, text } = site(`127.0.0.1:${port}`, { listen: `127.0.0.1:${admin}` });
    writeFileSync(join(dir, 'ferry.json'), text);
    const ferry = new Ferry(['run', '--workers', '2', '--config', join(dir, 'ferry.json')]);
    await ferry.ready();
    // Connections go round-robin: a few of them reach both workers.
    for (let i = 0; i < 4; i++) expect((await h1Get(`http://127.0.0.1:${port}/ferry.json`)).status).toBe(404);
    await expectHidden(`http://127.0.0.1:${port}`, 'ferry.json');
  });
});
