import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { CLI, Ferry } from '@ferry/test-kit/ferry';
import { freePorts } from '@ferry/test-kit/ports';

/**
 * Issue 18: the embedded default serves its page, script and icon from a folder (dist/demo of
 * the built package) with file_server, with sidecars compressed at build time — not inlined into
 * static_response. Run from a fresh working directory, so nothing depends on where ferry starts.
 */

const SOURCE = fileURLToPath(new URL('../demo/', import.meta.url));
const BUILT = fileURLToPath(new URL('../dist/demo/', import.meta.url));

let cwd: string;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'ferry-fresh-'));
  const printed = execFileSync(process.execPath, [CLI, 'run', '--print-default-config'], { cwd, encoding: 'utf8' });
  // The default as printed, on free ports (the upstream's address is also where the proxy dials).
  const [demo, tls, upstream] = await freePorts(3);
  const text = printed
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${demo}`)
    .replaceAll('127.0.0.1:8443', `127.0.0.1:${tls}`)
    .replaceAll('127.0.0.1:8079', `127.0.0.1:${upstream}`);
  writeFileSync(join(cwd, 'ferry.json'), text);
});

/** `ferry run --config ferry.json` in the fresh folder, for one test: the demo server's base URL. */
async function serve(): Promise<string> {
  const ferry = new Ferry(['run', '--config', 'ferry.json'], { FERRY_CACHE_DIR: join(cwd, 'cache') }, cwd);
  const line = await ferry.waitFor((e) => e.msg === 'listening' && e.server === 'demo', 'the demo listening');
  return `http://127.0.0.1:${line.port as number}`;
}

const original = (name: string) => readFileSync(join(SOURCE, name));

describe('the embedded default serves its files with file_server', () => {
  it('builds sidecars next to the files it serves, each the original once decompressed', () => {
    for (const name of ['index.html', 'app.js']) {
      expect(readFileSync(join(BUILT, name))).toEqual(original(name));
      expect(brotliDecompressSync(readFileSync(join(BUILT, `${name}.br`)))).toEqual(original(name));
      expect(gunzipSync(readFileSync(join(BUILT, `${name}.gz`)))).toEqual(original(name));
    }
  });

  for (const [encoding, decode, suffix] of [
    ['br', brotliDecompressSync, '.br'],
    ['gzip', gunzipSync, '.gz'],
  ] as const) {
    it(`answers the page and its script with the ${encoding} sidecar to a client that asks for ${encoding}`, async () => {
      const base = await serve();
      for (const [path, name, type] of [
        ['/', 'index.html', 'text/html; charset=utf-8'],
        ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
      ] as const) {
        const r = await h1Get(`${base}${path}`, { headers: { 'accept-encoding': encoding } });
        expect(r.status, path).toBe(200);
        expect(r.headers['content-encoding']).toBe(encoding);
        expect(r.headers['content-type']).toBe(type);
        expect(r.headers.vary).toMatch(/accept-encoding/i);
        // The sidecar as built, not compressed again on the fly by encode in front.
        expect(r.body).toEqual(readFileSync(join(BUILT, name + suffix)));
        expect(decode(r.body)).toEqual(original(name));
        expect(Number(r.headers['content-length'])).toBe(r.body.length);
      }
    });
  }

  it('prefers br when the client takes br and gzip equally, as browsers ask', async () => {
    const base = await serve();
    const r = await h1Get(`${base}/`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(r.headers['content-encoding']).toBe('br');
  });

  it('answers the original to a client that takes no encoding, with validators that work', async () => {
    const base = await serve();
    const r = await h1Get(`${base}/`, { headers: { 'accept-encoding': 'identity' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body).toEqual(original('index.html'));
    expect(r.body.toString()).toMatch(/Ferry is running/);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers.etag).toMatch(/^"[^"]+"$/);
    expect(new Date(r.headers['last-modified']!).getTime()).toBeGreaterThan(0);
    const again = await h1Get(`${base}/`, { headers: { 'accept-encoding': 'identity', 'if-none-match': r.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it('serves zstd only where the build made the sidecar, else the original', async () => {
    const base = await serve();
    const built = existsSync(join(BUILT, 'index.html.zst'));
    const r = await h1Get(`${base}/`, { headers: { 'accept-encoding': 'zstd' } });
    expect(r.status).toBe(200);
    if (built) expect(r.body).toEqual(readFileSync(join(BUILT, 'index.html.zst')));
    else expect(r.body).toEqual(original('index.html'));
    expect(r.headers['content-encoding']).toBe(built ? 'zstd' : undefined);
  });

  it('tells the page its protocol and address at /whoami, and exposes nothing else of the folder', async () => {
    const base = await serve();
    const who = await h1Get(`${base}/whoami`);
    expect(JSON.parse(who.body.toString())).toEqual({ proto: 'HTTP/1.1', remote: '127.0.0.1' });
    for (const path of ['/index.html', '/index.html.br', '/app.js.gz', '/nope', '/../package.json', '/%2e%2e/cli.js']) {
      const r = await h1Get(`${base}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.body.toString()).toMatch(/^404: nothing here/);
    }
  });
});
