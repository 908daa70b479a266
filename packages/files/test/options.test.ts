/** file_server's options from config, with Caddy's names, each asked for with real clients. */
import { utimesSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { makeSite, rawRequest, serveConfig, statusOf } from './helpers.js';

function handler(options: Record<string, unknown>) {
  return { routes: [{ handle: [{ handler: 'file_server', ...options }] }] };
}

describe('index_names and canonical_uris', () => {
  it('a folder serves index.html, else index.txt, else the index_names given', async () => {
    const site = makeSite({ 'a/index.html': '<p>a</p>', 'b/index.txt': 'b', 'c/home.htm': 'c', 'c/index.html': 'not this' });
    const server = await serveConfig(handler({ root: site.root }));
    const a = await h1Get(`${server.url}/a/`);
    expect([a.status, a.body.toString(), a.headers['content-type']]).toEqual([200, '<p>a</p>', 'text/html; charset=utf-8']);
    expect((await h1Get(`${server.url}/b/`)).body.toString()).toBe('b');
    const custom = await serveConfig(handler({ root: site.root, index_names: ['home.htm'] }));
    expect((await h1Get(`${custom.url}/c/`)).body.toString()).toBe('c');
    expect((await h1Get(`${custom.url}/a/`)).status).toBe(404);
  });

  it('a folder without its slash is redirected (308) to it, a file with one back, the query kept', async () => {
    const site = makeSite({ 'docs/index.html': 'docs', 'page.txt': 'page' });
    const server = await serveConfig(handler({ root: site.root }));
    const dir = await h1Get(`${server.url}/docs?x=1`);
    expect([dir.status, dir.headers.location]).toEqual([308, '/docs/?x=1']);
    const file = await h1Get(`${server.url}/page.txt/`);
    expect([file.status, file.headers.location]).toEqual([308, '/page.txt']);
    const off = await serveConfig(handler({ root: site.root, canonical_uris: false }));
    expect((await h1Get(`${off.url}/docs`)).body.toString()).toBe('docs');
    expect((await h1Get(`${off.url}/page.txt/`)).body.toString()).toBe('page');
  });

  it('a redirect never points at another host: //host paths lose their extra slashes', async () => {
    const site = makeSite({ 'evil.example/index.html': 'x' });
    const server = await serveConfig(handler({ root: site.root }));
    const raw = await rawRequest(portOf(server), '//evil.example');
    expect(statusOf(raw)).toBe(308);
    expect(raw).toMatch(/\r\nlocation: \/evil\.example\/\r\n/i);
  });
});

describe('browse', () => {
  it('lists a folder as HTML with escaped names, sorted, with sizes and times; JSON for Accept: application/json', async () => {
    const site = makeSite({ 'b.txt': 'bb', 'a.txt': 'a', '<script>x.txt': 'x', 'sub/c.txt': 'c' });
    utimesSync(site.write('a.txt', 'a'), new Date('2024-01-02T03:04:05Z'), new Date('2024-01-02T03:04:05Z'));
    const server = await serveConfig(handler({ root: site.root, browse: {} }));
    const html = await h1Get(`${server.url}/`);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    const text = html.body.toString();
    expect(text).not.toContain('<script>x');
    expect(text).toContain('&lt;script&gt;x.txt');
    expect(text).toContain('href="./%3Cscript%3Ex.txt"');
    expect(text.indexOf('a.txt')).toBeLessThan(text.indexOf('b.txt'));
    const json = await h1Get(`${server.url}/`, { headers: { accept: 'application/json' } });
    const entries = JSON.parse(json.body.toString()) as { name: string; size: number; is_dir: boolean; mod_time: string; url: string }[];
    expect(entries.map((e) => e.name)).toEqual(['<script>x.txt', 'a.txt', 'b.txt', 'sub']);
    expect(entries.find((e) => e.name === 'b.txt')?.size).toBe(2);
    expect(entries.find((e) => e.name === 'a.txt')?.mod_time).toBe('2024-01-02T03:04:05.000Z');
    expect(entries.find((e) => e.name === 'sub')).toMatchObject({ is_dir: true, url: './sub/' });
    expect(json.headers.vary).toContain('Accept');
  });

  it('sort ["size", "desc"] and file_limit apply; without browse a folder with no index is 404', async () => {
    const site = makeSite({ 'small.txt': '1', 'big.txt': '1234567', 'mid.txt': '123' });
    const server = await serveConfig(handler({ root: site.root, browse: { sort: ['size', 'desc'] } }));
    const json = await h1Get(`${server.url}/`, { headers: { accept: 'application/json' } });
    expect((JSON.parse(json.body.toString()) as { name: string }[]).map((e) => e.name)).toEqual(['big.txt', 'mid.txt', 'small.txt']);
    const limited = await serveConfig(handler({ root: site.root, browse: { file_limit: 2 } }));
    expect(JSON.parse((await h1Get(`${limited.url}/`, { headers: { accept: 'application/json' } })).body.toString())).toHaveLength(2);
    const none = await serveConfig(handler({ root: site.root }));
    expect((await h1Get(`${none.url}/`)).status).toBe(404);
  });
});

describe('misses, pass_thru, status_code and error routes', () => {
  it('a missing file is a 404 HttpError the error routes answer, not a crash', async () => {
    const site = makeSite();
    const server = await serveConfig({
      routes: [{ handle: [{ handler: 'file_server', root: site.root }] }],
      errors: { routes: [{ handle: [{ handler: 'static_response', body: 'oops {http.error.status_code}' }] }] },
    });
    const r = await h1Get(`${server.url}/missing.txt`);
    expect([r.status, r.body.toString()]).toEqual([404, 'oops 404']);
    // The server goes on serving.
    expect((await h1Get(`${server.url}/missing/again/`)).status).toBe(404);
  });

  it('status_code serves a file with that status (a 404 page), also for a POST in the error routes', async () => {
    const site = makeSite({ '404.html': '<h1>gone</h1>' });
    const server = await serveConfig({
      routes: [
        { match: [{ path: ['/404.html'] }], handle: [{ handler: 'file_server', root: site.root, status_code: 404 }], terminal: true },
        { handle: [{ handler: 'error', status_code: 404 }] },
      ],
      errors: {
        routes: [{ handle: [{ handler: 'file_server', root: site.root, pass_thru: false, index_names: ['404.html'] }] }],
      },
    });
    const page = await h1Get(`${server.url}/404.html`, { headers: { range: 'bytes=0-1' } });
    expect([page.status, page.body.toString()]).toEqual([404, '<h1>gone</h1>']);
    // Error routes: the page is served with the error's status, whatever the method.
    const post = await h1Get(`${server.url}/`, { method: 'POST' });
    expect([post.status, post.body.toString()]).toEqual([404, '<h1>gone</h1>']);
  });

  it('pass_thru hands a miss to the next handler; a found file is served', async () => {
    const site = makeSite({ 'here.txt': 'here' });
    const server = await serveConfig(handler({ root: site.root, pass_thru: true }));
    const withNext = await serveConfig({
      routes: [
        {
          handle: [
            { handler: 'file_server', root: site.root, pass_thru: true },
            { handler: 'static_response', status_code: 418, body: 'next' },
          ],
        },
      ],
    });
    expect((await h1Get(`${withNext.url}/here.txt`)).body.toString()).toBe('here');
    const miss = await h1Get(`${withNext.url}/nope`);
    expect([miss.status, miss.body.toString()]).toEqual([418, 'next']);
    // At the end of the chain a miss is Caddy's empty 200.
    expect((await h1Get(`${server.url}/nope`)).status).toBe(200);
  });

  it('root defaults to {http.vars.root}; a root with placeholders is rendered per request', async () => {
    const site = makeSite({ 'a/f.txt': 'in a', 'b/f.txt': 'in b' });
    const server = await serveConfig({
      routes: [
        {
          handle: [{ handler: 'vars', root: `${site.root}/{http.request.header.x-site}` }, { handler: 'file_server' }],
        },
      ],
    });
    expect((await h1Get(`${server.url}/f.txt`, { headers: { 'x-site': 'a' } })).body.toString()).toBe('in a');
    expect((await h1Get(`${server.url}/f.txt`, { headers: { 'x-site': 'b' } })).body.toString()).toBe('in b');
    // A placeholder cannot climb: the rendered root is a root, and the request path is still cleaned under it.
    const climb = await h1Get(`${server.url}/secret.txt`, { headers: { 'x-site': 'a' } });
    expect(climb.status).toBe(404);
  });

  it('Content-Type by extension: charset for text, none guessed for unknown extensions', async () => {
    const site = makeSite({ 'a.css': 'x', 'b.JSON': '{}', 'c.wasm': 'x', 'd.unknownext': 'x', 'e.svg': '<svg/>', noext: 'x' });
    const server = await serveConfig(handler({ root: site.root }));
    const type = async (p: string) => (await h1Get(`${server.url}/${p}`)).headers['content-type'];
    expect(await type('a.css')).toBe('text/css; charset=utf-8');
    expect(await type('b.JSON')).toBe('application/json');
    expect(await type('c.wasm')).toBe('application/wasm');
    expect(await type('d.unknownext')).toBe('application/octet-stream');
    expect(await type('e.svg')).toBe('image/svg+xml');
    expect(await type('noext')).toBe('application/octet-stream');
  });
});

describe('precompressed and etag_file_extensions', () => {
  it('serves the sidecar the client accepts best, in precompressed_order on ties, with Content-Encoding and Vary; the file otherwise', async () => {
    const text = 'console.log("hello");\n'.repeat(50);
    const site = makeSite({ 'app.js': text, 'app.js.gz': gzipSync(text), 'app.js.br': 'BR-BYTES', 'plain.js': text });
    const server = await serveConfig(
      handler({ root: site.root, precompressed: { br: {}, gzip: {} }, precompressed_order: ['br', 'gzip'] }),
    );
    const get = (path: string, ae?: string) => h1Get(`${server.url}${path}`, { headers: ae ? { 'accept-encoding': ae } : {} });
    const gz = await get('/app.js', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(gz.headers['content-length']).toBe(String(gzipSync(text).length));
    expect(gz.headers.vary).toBe('Accept-Encoding');
    const br = await get('/app.js', 'gzip, br');
    expect([br.headers['content-encoding'], br.body.toString()]).toEqual(['br', 'BR-BYTES']);
    expect((await get('/app.js', 'br;q=0.5, gzip')).headers['content-encoding']).toBe('gzip');
    expect((await get('/app.js', '*, br;q=0')).headers['content-encoding']).toBe('gzip');
    const none = await get('/app.js', 'zstd');
    expect([none.headers['content-encoding'], none.body.toString()]).toEqual([undefined, text]);
    expect((await get('/app.js')).headers['content-encoding']).toBeUndefined();
    expect((await get('/plain.js', 'gzip')).headers['content-encoding']).toBeUndefined();
    // The sidecar has its own ETag: a cache never mixes the encodings.
    expect(gz.headers.etag).not.toBe(none.headers.etag);
  });

  it("without precompressed_order, a tie goes to the encoding the client lists first (Caddy's rule), whatever the config's order", async () => {
    const text = 'console.log("hello");\n'.repeat(50);
    const site = makeSite({ 'app.js': text, 'app.js.gz': gzipSync(text), 'app.js.br': 'BR-BYTES' });
    const server = await serveConfig(handler({ root: site.root, precompressed: { gzip: {}, br: {} } }));
    const encodingFor = async (ae: string) =>
      (await h1Get(`${server.url}/app.js`, { headers: { 'accept-encoding': ae } })).headers['content-encoding'];
    expect(await encodingFor('br, gzip')).toBe('br');
    expect(await encodingFor('gzip, br')).toBe('gzip');
    expect(await encodingFor('gzip;q=0.5, br;q=0.5')).toBe('gzip');
    expect(await encodingFor('br;q=0.4, gzip;q=0.9')).toBe('gzip');
    expect(await encodingFor('identity, *')).toBe('gzip'); // `*` accepts both: the config's order among them
  });

  it('etag_file_extensions reads the ETag from FILE.etag; an invalid one is ignored', async () => {
    const site = makeSite({ 'a.txt': 'a', 'a.txt.etag': '"from-file"\n', 'b.txt': 'b', 'b.txt.etag': 'bad\r\nx-injected: 1' });
    const server = await serveConfig(handler({ root: site.root, etag_file_extensions: ['.etag'] }));
    const a = await h1Get(`${server.url}/a.txt`);
    expect(a.headers.etag).toBe('"from-file"');
    expect((await h1Get(`${server.url}/a.txt`, { headers: { 'if-none-match': '"from-file"' } })).status).toBe(304);
    const b = await h1Get(`${server.url}/b.txt`);
    expect(b.headers.etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect(b.headers['x-injected']).toBeUndefined();
  });
});
