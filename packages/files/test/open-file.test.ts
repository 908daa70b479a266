/**
 * file_server opens a regular file to learn where it really leads (open_file.ts: the kernel's name
 * for the descriptor, not realpath) and the response reads that descriptor. Every kind of answer
 * must close it — the ones that read it (whole, ranged, streamed, streamed behind encode, a
 * precompressed sidecar) and the ones that never do (HEAD, 304, 412, 416, 405, a redirect, a
 * refused symlink, a client gone mid-file) — and nothing may block on what is opened (a FIFO).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encode } from '@ferry/encode';
import { portOf } from '@ferry/test-kit/servers';
import { fileServer, spa } from '../src/index.js';
import { OpenFile } from '../src/open_file.js';
import { body, get, keepSwapping, makeSite, requestsDuring, SECRET, serve, settledUnder } from './helpers.js';

/** Skipped elsewhere: the descriptors are counted, and files named, through Linux's /proc/self/fd. */
const linux = process.platform === 'linux';

/** Reads `bytes` of a response, then leaves (resets the connection). */
function leaveAfter(res: IncomingMessage, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    res.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= bytes) {
        res.socket.resetAndDestroy();
        resolve();
      }
    });
    res.on('end', resolve);
  });
}

const small = randomBytes(1000);
const big = randomBytes(3 * 1024 * 1024);
const page = Buffer.from('<p>compressible '.repeat(200));

describe.skipIf(!linux)('file_server closes every file it opens', () => {
  it('after answers that read the file and answers that never do, no descriptor is left open', async () => {
    const site = makeSite({ 'small.bin': small, 'big.bin': big, 'page.html': page, 'page.html.gz': gzipSync(page) });
    symlinkSync(join(site.dir, 'secret.txt'), join(site.root, 'leak.txt'));
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root, precompressed: { gzip: {} } })] }] });
    const port = portOf(server);
    const encoded = await serve({ routes: [{ handle: [encode({ encodings: { gzip: {} } }), fileServer({ root: site.root })] }] });
    const gzipPort = portOf(encoded);
    const app = await serve({ routes: [{ handle: [spa({ root: site.root, index: 'page.html', precompressed: { gzip: {} } })] }] });
    const spaPort = portOf(app);
    const first = await get(port, '/small.bin');
    const etag = first.headers.etag!;
    expect((await body(first)).equals(small)).toBe(true);

    const asks: Array<[string, Record<string, string>, string, number]> = [
      ['/small.bin', { range: 'bytes=10-99' }, 'GET', 206],
      ['/small.bin', {}, 'HEAD', 200],
      ['/small.bin', { 'if-none-match': etag }, 'GET', 304],
      ['/small.bin', { 'if-match': '"other"' }, 'GET', 412],
      ['/small.bin', { range: 'bytes=5000-' }, 'GET', 416],
      ['/small.bin', {}, 'DELETE', 405],
      ['/small.bin/', {}, 'GET', 308],
      ['/leak.txt', {}, 'GET', 404],
      ['/page.html', { 'accept-encoding': 'gzip' }, 'GET', 200],
      ['/page.html', { 'accept-encoding': 'gzip' }, 'HEAD', 200],
      ['/big.bin', {}, 'GET', 200],
      ['/big.bin', { range: 'bytes=1-2000000' }, 'GET', 206],
    ];
    // spa(): a path that finds nothing gets the index; with its sidecar chosen, both were opened.
    const fallbacks: typeof asks = [
      ['/no/such/route', { 'accept-encoding': 'gzip' }, 'HEAD', 200],
      ['/no/such/route', { 'accept-encoding': 'gzip' }, 'GET', 200],
      ['/no/such/route', {}, 'HEAD', 200],
    ];
    for (const [path, headers, method, status] of [...asks, ...fallbacks]) {
      const res = await get(fallbacks.some((f) => f[0] === path) ? spaPort : port, path, headers, method);
      const got = await body(res);
      expect(res.statusCode, `${method} ${path} ${JSON.stringify(headers)}`).toBe(status);
      if (path === '/big.bin' && status === 200) expect(got.equals(big)).toBe(true);
      if (headers['accept-encoding']) expect(res.headers['content-encoding']).toBe('gzip');
      expect(got.toString('latin1')).not.toContain(SECRET);
    }
    // Clients that leave mid-file, straight and behind encode (there the stream owns the descriptor).
    await Promise.all([
      get(port, '/big.bin').then((res) => leaveAfter(res, 100_000)),
      get(port, '/big.bin', { range: 'bytes=0-2999999' }).then((res) => leaveAfter(res, 200_000)),
      get(gzipPort, '/big.bin', { 'accept-encoding': 'gzip' }).then((res) => leaveAfter(res, 1)),
      get(gzipPort, '/page.html', { 'accept-encoding': 'gzip' }).then(body),
    ]);
    expect(await settledUnder(site.dir)).toEqual([]);
    // The server still answers, right.
    expect((await body(await get(port, '/small.bin'))).equals(small)).toBe(true);
    expect(await settledUnder(site.dir)).toEqual([]);
  });

  it('a file swapped with a symlink out of the root, again and again while it is served, never sends what lies outside', async () => {
    // Before, the root check (realpath) and the read (a second open by path) were apart: a link
    // swapped in between was read. Now the descriptor checked is the descriptor read.
    const site = makeSite();
    const target = join(site.root, 'page.txt');
    // One as long as the secret (a read of it would look whole), one longer: a stat of one and an
    // open of the other is a file that changed, read again in full.
    const insides = ['x'.repeat(SECRET.length), 'y'.repeat(SECRET.length * 2)];
    writeFileSync(target, insides[0]!);
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
    const port = portOf(server);
    const stop = keepSwapping(target, 3, (temp, state) => {
      if (state === 0) symlinkSync(join(site.dir, 'secret.txt'), temp);
      else writeFileSync(temp, insides[state - 1]!);
    });
    const statuses = await requestsDuring(stop, port, '/page.txt', {}, (status, got) => {
      expect(got.toString('latin1')).not.toContain(SECRET);
      if (status === 200) expect(insides).toContain(got.toString('latin1'));
    });
    // Both states were seen: the swaps did race the requests.
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(404)).toBeGreaterThan(0);
    expect(await settledUnder(site.dir)).toEqual([]);
  });

  it('a FIFO is opened without blocking, and named by the kernel like any file', async () => {
    const site = makeSite();
    const fifo = join(site.root, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // Without O_NONBLOCK this open waits for a writer that never comes (the test times out).
    const opened = await OpenFile.open(fifo);
    expect(opened).toBeDefined();
    expect(opened!.realPath()).toBe(realpathSync(fifo));
    opened!.close();
  });

  it('a file unlinked while open is not named: the caller asks realpath, which finds nothing', async () => {
    const site = makeSite({ 'gone.txt': 'x' });
    const path = join(site.root, 'gone.txt');
    const opened = (await OpenFile.open(path))!;
    expect(opened.realPath()).toBe(realpathSync(path));
    unlinkSync(path);
    expect(opened.realPath()).toBeUndefined();
    const fd = opened.take();
    expect(fd).toBeTypeOf('number');
    // Taken: closing is now the taker's, and close() does nothing.
    expect(opened.take()).toBeUndefined();
    opened.close();
    closeSync(fd!);
  });
});
