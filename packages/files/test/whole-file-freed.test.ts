/**
 * A file read whole (up to 256 KiB) is read into memory of its own, handed to the response with
 * end(), and freed once the writer calls back (release_reads.ts `releaseWhenWritten`), on Node 22
 * and later: left to the collector, those buffers drove Node 24 and 26 into full mark-compacts.
 * Freed only by a writer that says it is done with a chunk once it calls back (`lendable`: Node's
 * own, and `encode` over it); a writer that does not say so keeps it. Every answer stays whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { toNodeHandler } from '@ferry/core';
import { encode } from '@ferry/encode';
import { portOf } from '@ferry/test-kit/servers';
import { fileServer } from '../src/index.js';
import { body, defer, get, makeSite, serve, streamWindow } from './helpers.js';

/** Node 22+: `ArrayBuffer.prototype.transfer`, what Ferry frees memory with. */
const canFree = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const restore: (() => void)[] = [];
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

/** Every buffer of `size` bytes Buffer.allocUnsafe makes while the test runs (a reference kept). */
function allocations(size: number): Buffer[] {
  const out: Buffer[] = [];
  const alloc = Buffer.allocUnsafe;
  restore.push(() => {
    Buffer.allocUnsafe = alloc;
  });
  Buffer.allocUnsafe = ((n: number) => {
    const b = alloc(n);
    if (n === size) out.push(b);
    return b;
  }) as typeof Buffer.allocUnsafe;
  return out;
}

/** Whether `buf`'s memory was freed (its ArrayBuffer detached), waiting a bounded while for the write's callback. */
async function freed(buf: Buffer): Promise<boolean> {
  for (let i = 0; i < 40 && buf.buffer.byteLength > 0; i++) await new Promise((r) => setTimeout(r, 5));
  return buf.buffer.byteLength === 0;
}

/** A GET on a connection of its own: the response and its whole body. */
async function fetchWhole(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ res: IncomingMessage; body: Buffer }> {
  const res = await get(port, path, headers);
  return { res, body: await body(res) };
}

/** 100 KiB: read whole (under 256 KiB) into a buffer of its own (one byte more, to notice growth). */
const file = randomBytes(100 * 1024);
const READ = file.length + 1;

describe('a file read whole is freed once written', () => {
  it(`HTTP/1.1: the answer is whole and its buffer ${canFree ? 'freed' : 'left to the collector (Node 20)'}`, async () => {
    const { root } = makeSite({ 'f.bin': file });
    const port = portOf(await serve({ routes: [{ handle: [fileServer({ root })] }] }));
    const reads = allocations(READ);
    for (let i = 0; i < 3; i++) {
      const { res, body } = await fetchWhole(port, '/f.bin');
      expect(res.statusCode).toBe(200);
      expect(sha(body)).toBe(sha(file));
    }
    expect(reads).toHaveLength(3);
    for (const buf of reads) expect(await freed(buf)).toBe(canFree);
  });

  it('h2c: answers held back by a closed window stay whole while other files are read and freed', async () => {
    const { root } = makeSite({ 'f.bin': file, 'g.bin': Buffer.from(file).reverse() });
    const port = portOf(await serve({ protocols: ['h2c'], routes: [{ handle: [fileServer({ root })] }] }));
    const reads = allocations(READ);
    const session = h2connect(`http://127.0.0.1:${port}`);
    defer(() => session.close());
    await once(session, 'connect');
    session.setLocalWindowSize(32 * 1024 * 1024);
    // Streams with no window (RFC 9113 §6.9.2): each head comes once the server called end(), and
    // the body waits in the buffer it was read into.
    await streamWindow(session, 0);
    const streams = Array.from({ length: 6 }, (_, i) => session.request({ ':path': i % 2 ? '/g.bin' : '/f.bin' }));
    await Promise.all(streams.map((stream) => once(stream, 'response')));
    const bodies = streams.map(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    });
    expect(reads).toHaveLength(6);
    // Held back, nothing may be freed yet: the bytes are still to be sent.
    expect(reads.every((b) => b.buffer.byteLength === READ)).toBe(true);
    await streamWindow(session, 65_535);
    const got = await Promise.all(bodies);
    const reversed = Buffer.from(file).reverse();
    for (const [i, b] of got.entries()) expect(sha(b), `stream ${i}`).toBe(sha(i % 2 ? reversed : file));
    for (const buf of reads) expect(await freed(buf)).toBe(canFree);
  });

  it('behind encode (lendable over Node’s writer): compressed whole, and freed once the compressor took it', async () => {
    const text = Buffer.from('compressible text, '.repeat(6000));
    const { root } = makeSite({ 'f.txt': text });
    const port = portOf(await serve({ routes: [{ handle: [encode({ encodings: { gzip: {} } }), fileServer({ root })] }] }));
    const reads = allocations(text.length + 1);
    const { res, body } = await fetchWhole(port, '/f.txt', { 'accept-encoding': 'gzip' });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(sha(gunzipSync(body))).toBe(sha(text));
    expect(reads).toHaveLength(1);
    expect(await freed(reads[0]!)).toBe(canFree);
  });

  it('a writer that does not say it is done with a chunk (toNodeHandler in node:http) keeps it', async () => {
    const { root } = makeSite({ 'f.bin': file });
    const server = createServer(toNodeHandler({ routes: [{ handle: [fileServer({ root })] }] }));
    defer(() => server.close());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const reads = allocations(READ);
    const { res, body } = await fetchWhole((server.address() as AddressInfo).port, '/f.bin');
    expect(res.statusCode).toBe(200);
    expect(sha(body)).toBe(sha(file));
    expect(reads).toHaveLength(1);
    expect(await freed(reads[0]!)).toBe(false);
  });
});
