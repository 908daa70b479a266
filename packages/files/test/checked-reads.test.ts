/**
 * What file_server reads besides the file it serves is checked as that file is, and read from what
 * was checked: `etag_file_extensions` sidecars and folder listings. Only regular files and
 * folders are served at all: a FIFO, a socket or a device answers 404 and holds nothing. A file
 * replaced between its stat and its open is answered as it is now (a range as a 200 of the whole,
 * a status_code answer with its status); a range of a file appended to meanwhile as before.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { fileServer } from '../src/index.js';
import type { Entry } from '../src/browse.js';
import {
  body,
  get,
  keepSwapping,
  makeSite,
  rawRequest,
  requestsDuring,
  SECRET,
  serve,
  serveConfig,
  settledUnder,
  statusOf,
} from './helpers.js';

/** FIFOs are made with mkfifo, descriptors counted through /proc: Linux only. */
const linux = process.platform === 'linux';

function handler(options: Record<string, unknown>) {
  return { routes: [{ handle: [{ handler: 'file_server', ...options }] }] };
}

/**
 * `f.bin`, served by file_server, renamed over again and again (keepSwapping) by a file of `a`
 * bytes 'a' or one of `b` bytes 'b'; starts as the first.
 */
async function swapping(a: number, b: number) {
  const site = makeSite();
  const target = join(site.root, 'f.bin');
  writeFileSync(target, 'a'.repeat(a));
  const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
  const stop = keepSwapping(target, 2, (temp, state) => writeFileSync(temp, state === 0 ? 'a'.repeat(a) : 'b'.repeat(b)));
  return { site, target, port: portOf(server), stop };
}

/** A range of a file replaced meanwhile: a 200 of one whole file, without Content-Range or validators. */
function expectWhole(status: number, got: Buffer, fields: IncomingHttpHeaders, a: number, b: number): void {
  expect(status).toBe(200);
  expect(['a'.repeat(a), 'b'.repeat(b)]).toContain(got.toString('latin1'));
  expect(fields['content-range']).toBeUndefined();
  expect(fields.etag).toBeUndefined();
}

/** The status and body of one GET of `path`. */
async function answer(port: number, path: string, headers: Record<string, string>): Promise<[number, string]> {
  const res = await get(port, path, headers);
  return [res.statusCode!, (await body(res)).toString('latin1')];
}

/** The folder at `path` listed as JSON, by name. */
async function listing(url: string, path: string): Promise<Map<string, Entry>> {
  const reply = await h1Get(`${url}${path}`, { headers: { accept: 'application/json' } });
  expect(reply.status).toBe(200);
  return new Map((JSON.parse(reply.body.toString()) as Entry[]).map((e) => [e.name, e]));
}

describe.skipIf(!linux)('only regular files and folders are served', () => {
  it('a FIFO is 404 at once (its reader would wait for a writer), and is passed over as an index file', async () => {
    const site = makeSite({ 'a.txt': 'a', 'd/index.txt': 'second index' });
    execFileSync('mkfifo', [join(site.root, 'pipe'), join(site.root, 'd/index.html')]);
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
    const port = portOf(server);
    expect(statusOf(await rawRequest(port, '/pipe'))).toBe(404);
    expect(await rawRequest(port, '/d/')).toMatch(/^HTTP\/1\.1 200[\s\S]*\r\n\r\nsecond index$/);
    expect(await rawRequest(port, '/a.txt')).toMatch(/\r\n\r\na$/);
    expect(await settledUnder(site.dir)).toEqual([]);
  });

  it('a device reached through a link (links may leave the root) is 404, not an endless or empty 200', async () => {
    const site = makeSite({ 'a.txt': 'a' });
    symlinkSync('/dev/zero', join(site.root, 'zero'));
    symlinkSync('/dev/null', join(site.root, 'null'));
    const server = await serveConfig(handler({ root: site.root, follow_symlinks_outside_root: true }));
    for (const path of ['/zero', '/null']) expect(statusOf(await rawRequest(portOf(server), path)), path).toBe(404);
    expect(await rawRequest(portOf(server), '/a.txt')).toMatch(/\r\n\r\na$/);
  });
});

describe.skipIf(!linux)('a file that changes between its stat and its open', () => {
  it.each([
    ['opened to check it against the root', {}],
    // Then nothing opens it before the response does: that open met the FIFOs, and blocked a
    // thread-pool thread each until a writer came (the requests hung).
    ['with follow_symlinks_outside_root, not opened before it is read', { follow_symlinks_outside_root: true }],
  ])(
    '%s, is answered as it is now: whole, or 404 for a FIFO renamed over it — never a 500, a hang or a body cut off',
    async (_, options) => {
      // Three states renamed over page.txt again and again: a small file, one past the 256 KiB
      // whole-read limit, and a FIFO. A stat of one and an open of another is a file that changed,
      // answered as it is now. Before: a FIFO met at the read was a 500 (ESPIPE), a small file met
      // where the stat saw the large one was cut off mid-body (the client saw the connection end),
      // and a large file met where the stat saw the small one was read into memory whole.
      const site = makeSite();
      const target = join(site.root, 'page.txt');
      const small = 'x'.repeat(100);
      const large = 'y'.repeat(300 * 1024);
      writeFileSync(target, small);
      const fifos = Array.from({ length: 300 }, (_, i) => join(site.dir, `fifo${i}`));
      execFileSync('mkfifo', fifos);
      const server = await serve({ routes: [{ handle: [fileServer({ root: site.root, ...options })] }] });
      const stop = keepSwapping(target, 3, (temp, state) => {
        const fifo = state === 2 ? fifos.pop() : undefined;
        if (fifo !== undefined) renameSync(fifo, temp);
        else writeFileSync(temp, state === 0 ? small : large);
      });
      const statuses = await requestsDuring(stop, portOf(server), '/page.txt', {}, (status, got, fields) => {
        if (status !== 200) return;
        expect([small, large]).toContain(got.toString('latin1'));
        // An ETag, when sent, is the one of the bytes sent (Caddy's: modification time - size, base 36).
        if (fields.etag !== undefined) expect(fields.etag).toMatch(new RegExp(`-${got.length.toString(36)}"$`));
      });
      // Every state was served or refused: the small and large files both answered, and FIFOs were met.
      expect(statuses.get(200)).toBeGreaterThan(0);
      expect(statuses.get(404)).toBeGreaterThan(0);
      expect([...statuses.keys()].sort()).toEqual([200, 404]);
      expect(await settledUnder(site.dir)).toEqual([]);
    },
  );
});

describe.skipIf(!linux)('a file that grew or shrank between its stat and its open', () => {
  it.each([
    ['small', 100, 150, 'bytes=10-19'],
    ['large', 300 * 1024, 400 * 1024, 'bytes=100-199'],
  ])(
    'a range of a %s file renamed over by a larger one is a 206 of the file its length and ETag name, or a 200 of the whole',
    async (_, a, b, range) => {
      // A deploy renaming a new file over the old one while a client resumes a download with
      // If-Range. Before, a stat of the first and a read of the second was a 206 of the second's
      // bytes under the first's length and ETag: spliced into the first file by the client.
      const { site, target, port, stop } = await swapping(a, b);
      const [from, to] = range.slice(6).split('-').map(Number) as [number, number];
      const statuses = await requestsDuring(stop, port, '/f.bin', { range }, (status, got, fields) => {
        if (status === 206) {
          const total = Number(fields['content-range']?.split('/')[1]);
          expect([a, b]).toContain(total);
          expect(got.toString('latin1')).toBe((total === a ? 'a' : 'b').repeat(to - from + 1));
          expect(fields.etag).toMatch(new RegExp(`-${total.toString(36)}"$`));
        } else {
          expectWhole(status, got, fields, a, b);
        }
      });
      expect([...statuses.keys()].every((s) => s === 200 || s === 206)).toBe(true);
      // Which answers a race meets is the scheduler's; a file left alone is a 206 of its range.
      writeFileSync(target, 'b'.repeat(b));
      expect(await answer(port, '/f.bin', { range })).toEqual([206, 'b'.repeat(to - from + 1)]);
      expect(await settledUnder(site.dir)).toEqual([]);
    },
  );

  it.for([
    ['small', 1000],
    ['large', 300 * 1024],
  ] as const)('a range of a %s file being appended to is a 206, whatever it has grown to since its stat', async ([, size], ctx) => {
    // The same file, only longer: the bytes the stat's length and ETag name are still where they were.
    const site = makeSite();
    const target = join(site.root, 'log.txt');
    writeFileSync(target, 'a'.repeat(size));
    // Without birth times (some filesystems keep none), any change to a file counts as a replacement.
    if (statSync(target).birthtimeMs === 0) ctx.skip();
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
    let appending = true;
    let appends = 0;
    const append = () => {
      if (!appending || appends++ > 100_000) return;
      appendFileSync(target, 'b'.repeat(16));
      setImmediate(append);
    };
    setImmediate(append);
    const stop = () => {
      appending = false;
    };
    const statuses = await requestsDuring(stop, portOf(server), '/log.txt', { range: 'bytes=100-199' }, (status, got, fields) => {
      expect(status).toBe(206);
      expect(got.toString('latin1')).toBe('a'.repeat(100));
      expect(Number(fields['content-range']?.split('/')[1])).toBeGreaterThanOrEqual(size);
    });
    expect(statuses.get(206)).toBe(400);
    expect(appends).toBeGreaterThan(1);
    expect(await settledUnder(site.dir)).toEqual([]);
  });

  it.each([
    ['small', 100, 50, 'bytes=60-79'],
    ['large', 300 * 1024, 280 * 1024, 'bytes=290000-290099'],
  ])('a range of a %s file that shrank past it is a 200 of the whole file as it is now, never a 500', async (_, a, b, range) => {
    // Two files renamed over each other: the range lies inside the first and past the end of the
    // second. Stat and read of the same file: a 206 (first) or a 416 (second). Stat of the first
    // and read of the second: the range is gone; before, a 500.
    const { site, target, port, stop } = await swapping(a, b);
    const [from, to] = range.slice(6).split('-').map(Number) as [number, number];
    const statuses = await requestsDuring(stop, port, '/f.bin', { range }, (status, got, fields) => {
      if (status === 206) {
        expect(got.toString('latin1')).toBe('a'.repeat(to - from + 1));
        expect(fields['content-range']).toBe(`bytes ${from}-${to}/${a}`);
      } else if (status === 416) {
        expect(fields['content-range']).toBe(`bytes */${b}`);
      } else {
        expectWhole(status, got, fields, a, b);
      }
    });
    expect([...statuses.keys()].every((s) => [200, 206, 416].includes(s))).toBe(true);
    writeFileSync(target, 'a'.repeat(a));
    expect(await answer(port, '/f.bin', { range })).toEqual([206, 'a'.repeat(to - from + 1)]);
    writeFileSync(target, 'b'.repeat(b));
    expect(await answer(port, '/f.bin', { range })).toEqual([416, '']);
    expect(await settledUnder(site.dir)).toEqual([]);
  });

  it.each([
    ['a 404 page', 'small file that shrank', 404, 100, 50],
    ['a 404 page', 'large file that grew', 404, 300 * 1024, 400 * 1024],
    ['a 206 with no Range asked', 'large file that grew', 206, 300 * 1024, 400 * 1024],
  ])('a status_code answer (%s) of a %s keeps its status and is whole, never a 500', async (_, __, code, a, b) => {
    // Before, a large page that grew was sent as its first bytes under the old length.
    const site = makeSite();
    const target = join(site.root, 'page.html');
    const pages = ['a'.repeat(a), 'b'.repeat(b)];
    writeFileSync(target, pages[0]!);
    const server = await serveConfig(handler({ root: site.root, status_code: code }));
    const stop = keepSwapping(target, 2, (temp, state) => writeFileSync(temp, pages[state]!));
    const statuses = await requestsDuring(stop, portOf(server), '/page.html', {}, (status, got, fields) => {
      expect(status).toBe(code);
      expect(pages).toContain(got.toString('latin1'));
      expect(fields['content-range']).toBeUndefined();
    });
    expect(statuses.get(code)).toBe(400);
    expect(await settledUnder(site.dir)).toEqual([]);
  });
});

describe.skipIf(!linux)('etag_file_extensions sidecars are checked as served files are', () => {
  it('a sidecar linked out of the root, or to a hidden file, is not read; links may leave the root when allowed', async () => {
    const site = makeSite({ 'a.txt': 'a', 'b.txt': 'b', '.env': '"HIDDEN-TAG"' });
    writeFileSync(join(site.dir, 'tag.txt'), '"OUTSIDE-TAG"');
    symlinkSync(join(site.dir, 'tag.txt'), join(site.root, 'a.txt.etag'));
    symlinkSync(join(site.root, '.env'), join(site.root, 'b.txt.etag'));
    const checked = await serveConfig(handler({ root: site.root, etag_file_extensions: ['.etag'], hide: ['.env'] }));
    const a = await h1Get(`${checked.url}/a.txt`);
    expect(a.headers.etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect((await h1Get(`${checked.url}/b.txt`)).headers.etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    // The control: where links may leave the root and nothing is hidden, both tags are read.
    const open = await serveConfig(handler({ root: site.root, etag_file_extensions: ['.etag'], follow_symlinks_outside_root: true }));
    expect((await h1Get(`${open.url}/a.txt`)).headers.etag).toBe('"OUTSIDE-TAG"');
    expect((await h1Get(`${open.url}/b.txt`)).headers.etag).toBe('"HIDDEN-TAG"');
  });

  it('a FIFO or a device as sidecar holds nothing, and a tag is read up to 1,024 bytes exactly', async () => {
    const longest = `"${'x'.repeat(1022)}"`;
    const site = makeSite({ 'f.txt': 'f', 'z.txt': 'z', 'ok.txt': 'ok', 'ok.txt.etag': longest, 'big.txt': 'big' });
    site.write('big.txt.etag', `"${'y'.repeat(1023)}"`);
    execFileSync('mkfifo', [join(site.root, 'f.txt.etag')]);
    symlinkSync('/dev/zero', join(site.root, 'z.txt.etag'));
    const server = await serveConfig(handler({ root: site.root, etag_file_extensions: ['.etag'], follow_symlinks_outside_root: true }));
    // Before, the FIFO's open waited for a writer (the request never ended) and /dev/zero was read until memory ran out.
    for (const path of ['/f.txt', '/z.txt', '/big.txt']) {
      const reply = await h1Get(`${server.url}${path}`);
      expect(reply.status, path).toBe(200);
      expect(reply.headers.etag, path).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    }
    expect((await h1Get(`${server.url}/ok.txt`)).headers.etag).toBe(longest);
    expect(await settledUnder(site.dir)).toEqual([]);
  });
});

describe.skipIf(!linux)('folder listings', () => {
  it('list a link out of the root, or to a hidden file, as a link and nothing of what it leads to', async () => {
    const site = makeSite({ 'real.txt': 'inside', '.env': 'KEY=1' });
    symlinkSync(join(site.dir, 'secret.txt'), join(site.root, 'leak.txt'));
    symlinkSync(site.dir, join(site.root, 'up'));
    symlinkSync(join(site.root, '.env'), join(site.root, 'env-link'));
    symlinkSync(join(site.root, 'real.txt'), join(site.root, 'alias.txt'));
    symlinkSync(join(site.root, 'nowhere'), join(site.root, 'dangling'));
    const checked = await listing((await serveConfig(handler({ root: site.root, browse: {}, hide: ['.env'] }))).url, '/');
    for (const name of ['leak.txt', 'up', 'env-link', 'dangling'])
      expect(checked.get(name), name).toMatchObject({
        size: 0,
        is_dir: false,
        is_symlink: true,
        mode: 0,
        mod_time: new Date(0).toISOString(),
      });
    expect(checked.get('alias.txt')).toMatchObject({ size: 'inside'.length, is_symlink: true, is_dir: false });
    expect(checked.has('.env')).toBe(false);
    // The control: where links may leave the root, the listing shows their targets.
    const open = await listing((await serveConfig(handler({ root: site.root, browse: {}, follow_symlinks_outside_root: true }))).url, '/');
    expect(open.get('leak.txt')).toMatchObject({ size: SECRET.length, is_symlink: true });
    expect(open.get('up')).toMatchObject({ is_dir: true, url: './up/' });
    expect(open.get('env-link')).toMatchObject({ size: 'KEY=1'.length });
  });

  it('a folder swapped with a link out of the root, again and again while it is listed, never lists what lies outside', async () => {
    // Before, the folder was checked with realpath and then read by its path: a link swapped in
    // between was listed. Now the listing reads the descriptor that was checked.
    const site = makeSite({ 'inside/page.txt': 'page' });
    mkdirSync(join(site.dir, 'outside'));
    writeFileSync(join(site.dir, 'outside', 'outside-name.txt'), SECRET);
    const target = join(site.root, 'd');
    const leads = [join(site.root, 'inside'), join(site.dir, 'outside')];
    symlinkSync(leads[0]!, target);
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root, browse: {} })] }] });
    const port = portOf(server);
    const stop = keepSwapping(target, 2, (temp, state) => symlinkSync(leads[state]!, temp));
    const statuses = await requestsDuring(stop, port, '/d/', { accept: 'application/json' }, (status, got) => {
      expect(got.toString()).not.toContain('outside-name');
      if (status === 200) expect(got.toString()).toContain('"page.txt"');
    });
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(404)).toBeGreaterThan(0);
    expect(await settledUnder(site.dir)).toEqual([]);
  });
});
