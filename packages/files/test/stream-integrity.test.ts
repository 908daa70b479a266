/**
 * Large files go out through two reused buffers (stream_file.ts): a buffer is read into again only
 * after its write called back. These tests make writes wait — slow readers, many at once, Range
 * slices that start and end off the chunk boundaries, clients that leave mid-file — and check
 * every byte of every answer against the file, over HTTP/1.1 and h2c, and through encode (which
 * takes the plain read stream instead).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, truncateSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encode } from '@ferry/encode';
import { portOf } from '@ferry/test-kit/servers';
import { collectSlowly } from '@ferry/test-kit/streams';
import { fileServer } from '../src/index.js';
import { defer, makeSite, serve } from './helpers.js';

const CHUNK = 256 * 1024;
const SIZE = 3 * 1024 * 1024 + 12_345;
const file = randomBytes(SIZE);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What each request asks for: whole, or a Range off the chunk boundaries; `slow` readers pause every 128 KiB. */
const ASKS: { range?: string; from: number; to: number; slow: boolean }[] = [
  { from: 0, to: SIZE - 1, slow: false },
  { from: 0, to: SIZE - 1, slow: true },
  { range: 'bytes=1000-2700000', from: 1000, to: 2_700_000, slow: true },
  { range: `bytes=${CHUNK - 1}-${2 * CHUNK + 1}`, from: CHUNK - 1, to: 2 * CHUNK + 1, slow: false },
  { range: 'bytes=-300000', from: SIZE - 300_000, to: SIZE - 1, slow: true },
  { range: `bytes=${SIZE - CHUNK - 7}-`, from: SIZE - CHUNK - 7, to: SIZE - 1, slow: false },
  { range: 'bytes=5-262150', from: 5, to: 262_150, slow: true },
  { from: 0, to: SIZE - 1, slow: true },
  { range: 'bytes=1-3000000', from: 1, to: 3_000_000, slow: false },
  { from: 0, to: SIZE - 1, slow: false },
];

/** Reads a body to its end; a slow reader stops for a few milliseconds after each 128 KiB. */
const readAll = (body: Readable, slow: boolean) => collectSlowly(body, slow ? { every: 128 * 1024 } : undefined);

function h1(port: number, headers: Record<string, string>, path = '/big.bin'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

function h2(session: ClientHttp2Session, headers: Record<string, string>) {
  const stream = session.request({ ':path': '/big.bin', ...headers });
  const head = new Promise<Record<string, unknown>>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  return { stream, head };
}

function expectSlice(status: number, length: unknown, body: Buffer, ask: (typeof ASKS)[number]) {
  expect(status).toBe(ask.range ? 206 : 200);
  expect(Number(length)).toBe(ask.to - ask.from + 1);
  expect(body.length).toBe(ask.to - ask.from + 1);
  expect(sha(body)).toBe(sha(file.subarray(ask.from, ask.to + 1)));
}

async function bigFileServer(handlers = (root: string) => [fileServer({ root })]) {
  const site = makeSite({ 'big.bin': file, 'big.txt': file });
  return serve({ protocols: ['h1', 'h2c'], routes: [{ handle: handlers(site.root) }] });
}

describe('large files through reused buffers', () => {
  it('HTTP/1.1: ten at once, slow and fast readers, Range slices off the chunk boundaries — every byte right', async () => {
    const port = portOf(await bigFileServer());
    // Twice: the second round runs on buffers the first one gave back.
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        ASKS.map(async (ask) => {
          const res = await h1(port, ask.range ? { range: ask.range } : {});
          expectSlice(res.statusCode!, res.headers['content-length'], await readAll(res, ask.slow), ask);
        }),
      );
    }
  });

  it('h2c: ten streams on one connection, slow and fast readers — every byte right', async () => {
    const server = await bigFileServer();
    const session = h2connect(`http://127.0.0.1:${portOf(server)}`);
    defer(() => session.close());
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        ASKS.map(async (ask) => {
          const { stream, head } = h2(session, ask.range ? { range: ask.range } : {});
          const [headers, body] = await Promise.all([head, readAll(stream, ask.slow)]);
          expectSlice(headers[':status'] as number, headers['content-length'], body, ask);
        }),
      );
    }
  });

  it('clients that leave mid-file: later answers are still right, and every file descriptor is closed', async () => {
    const port = portOf(await bigFileServer());
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const leavers = Array.from({ length: 6 }, async () => {
      const res = await h1(port, {});
      await new Promise<void>((resolve) => {
        let got = 0;
        res.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got > 100_000) {
            res.destroy();
            resolve();
          }
        });
      });
    });
    const stayers = ASKS.slice(0, 4).map(async (ask) => {
      const res = await h1(port, ask.range ? { range: ask.range } : {});
      expectSlice(res.statusCode!, res.headers['content-length'], await readAll(res, ask.slow), ask);
    });
    await Promise.all([...leavers, ...stayers]);
    for (const ask of ASKS.slice(0, 3)) {
      const res = await h1(port, ask.range ? { range: ask.range } : {});
      expectSlice(res.statusCode!, res.headers['content-length'], await readAll(res, ask.slow), ask);
    }
    // The server closes a leaver's file once its stream notices; wait for that (bounded), then compare.
    const deadline = Date.now() + 5_000;
    while (fds() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fds()).toBeLessThanOrEqual(before);
  });

  it('behind encode the file is read as a plain stream, and still arrives whole (compressed)', async () => {
    const server = await bigFileServer((root) => [encode({ encodings: { gzip: {} } }), fileServer({ root })]);
    const res = await h1(portOf(server), { 'accept-encoding': 'gzip' }, '/big.txt');
    expect(res.headers['content-encoding']).toBe('gzip');
    const body = gunzipSync(await readAll(res, true));
    expect(sha(body)).toBe(sha(file));
  });
});

describe('a file that shrinks while it is served', () => {
  it('the answer is cut (the connection closes short of Content-Length, never a hang), and the server goes on', async () => {
    const site = makeSite();
    const path = site.write('shrinking.bin', Buffer.alloc(0));
    truncateSync(path, 64 * 1024 * 1024); // sparse: more than any socket buffers can hold
    const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });
    const port = portOf(server);
    const res = await h1(port, {}, '/shrinking.bin');
    expect(res.headers['content-length']).toBe(String(64 * 1024 * 1024));
    res.pause();
    truncateSync(path, 1024 * 1024);
    const outcome = await new Promise<{ got: number; how: string }>((resolve) => {
      let got = 0;
      res.on('data', (chunk: Buffer) => {
        got += chunk.length;
      });
      res.on('end', () => resolve({ got, how: 'end' }));
      res.on('aborted', () => resolve({ got, how: 'aborted' }));
      res.on('error', () => resolve({ got, how: 'error' }));
      res.resume();
    });
    expect(outcome.how).not.toBe('end');
    expect(outcome.got).toBeLessThan(64 * 1024 * 1024);
    // The next request (a new connection) is served whole.
    site.write('after.txt', 'still here');
    const after = await h1(port, {}, '/after.txt');
    expect((await readAll(after, false)).toString()).toBe('still here');
  });
});
