/**
 * A body read whole (`req.json()`, `text()`, `arrayBuffer()`) frees what Node allocated for it once
 * Ferry is done with it (release_reads.ts), on Node 22 and later: each parser read of 4 KiB or more
 * that only the reader got, once joined, and the joined bytes once decoded. A read another
 * listener also got, or a handler peeked at, is left alone; every reader gets every byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { IncomingMessage, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_RELEASED } from '../src/release_reads.js';
import type { FerryRequest, ResponseWriter } from '../src/index.js';
import { useServers } from './helpers/http.js';

const serve = useServers();
/** Node 22+: `ArrayBuffer.prototype.transfer`, what Ferry frees reads with. */
const canFree = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const restore: (() => void)[] = [];
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

/** Every body read Node's parser hands to a request on `port`, and its length then (a reference kept, no listener added). */
function parserReads(port: () => number): { read: Buffer; length: number }[] {
  const reads: { read: Buffer; length: number }[] = [];
  const proto = IncomingMessage.prototype as unknown as { push(chunk: unknown): boolean };
  const push = proto.push;
  restore.push(() => {
    proto.push = push;
  });
  proto.push = function (this: IncomingMessage, chunk: unknown) {
    if (Buffer.isBuffer(chunk) && chunk.length > 0 && this.socket?.localPort === port()) reads.push({ read: chunk, length: chunk.length });
    return push.call(this, chunk);
  };
  return reads;
}

/** Every Buffer.concat result of `min` bytes or more while the test runs. */
function joined(min: number): Buffer[] {
  const out: Buffer[] = [];
  const concat = Buffer.concat;
  restore.push(() => {
    Buffer.concat = concat;
  });
  Buffer.concat = ((list: readonly Uint8Array[], length?: number) => {
    const b = concat(list, length);
    if (b.length >= min) out.push(b);
    return b;
  }) as typeof Buffer.concat;
  return out;
}

/** How `post` sends: the Content-Type, chunked or sized, and how many bytes a write. */
interface Sending {
  type?: string;
  chunked?: boolean;
  write?: number;
}

/** POSTs `body` to `port` (sized, in 64 KiB writes, unless told otherwise); the answer's status and text. */
function post(port: number, body: Buffer, sending: Sending = {}): Promise<{ status: number; text: string }> {
  const { type = 'application/json', chunked = false, write = 64 * 1024 } = sending;
  return new Promise((resolve, reject) => {
    const framing = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) };
    const headers = { 'content-type': type, ...framing };
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += write) req.write(body.subarray(at, at + write));
    req.end();
  });
}

/** A JSON body of about `size` bytes: one string of random hex. */
function jsonBody(size: number): Buffer {
  return Buffer.from(JSON.stringify({ data: randomBytes(size / 2).toString('hex') }));
}

/** Starts a server with `handler`; its port, and the parser reads of its requests. */
async function start(handler: (req: FerryRequest, res: ResponseWriter) => Promise<void>) {
  let port = 0;
  const reads = parserReads(() => port);
  const server = await serve({ handler });
  port = server.addresses[0]!.port;
  return { port, reads };
}

/** The reads that are freed when they should not be, or kept when they should be freed. */
const misfreed = (reads: { read: Buffer; length: number }[], expectFreed: (length: number) => boolean) =>
  reads.filter((r) => (r.read.buffer.byteLength === 0) !== expectFreed(r.length)).map((r) => r.length);

describe('a body read whole', () => {
  it('req.json(): every byte parsed; reads of 4 KiB or more, and the joined bytes, freed (Node 22+)', async () => {
    const body = jsonBody(512 * 1024);
    const joins = joined(body.length);
    const { port, reads } = await start(async (req, res) => {
      const value = (await req.json()) as { data: string };
      res.end(sha(Buffer.from(JSON.stringify(value))));
    });
    expect(await post(port, body)).toEqual({ status: 200, text: sha(body) });
    expect(reads.reduce((n, r) => n + r.length, 0)).toBe(body.length);
    expect(reads.filter((r) => r.length >= MIN_RELEASED).length).toBeGreaterThanOrEqual(4);
    expect(misfreed(reads, (length) => canFree && length >= MIN_RELEASED)).toEqual([]);
    expect(joins.length).toBe(1);
    expect(joins[0]!.buffer.byteLength === 0).toBe(canFree);
  });

  it('req.text() of a body that is not valid UTF-8: a 400, and its bytes are freed all the same', async () => {
    const body = Buffer.alloc(256 * 1024, 0xff);
    const joins = joined(body.length);
    const { port, reads } = await start(async (req, res) => {
      res.end(await req.text());
    });
    const answer = await post(port, body, { type: 'text/plain; charset=utf-8' });
    expect(answer.status).toBe(400);
    expect(misfreed(reads, (length) => canFree && length >= MIN_RELEASED)).toEqual([]);
    expect(joins.map((b) => b.buffer.byteLength === 0)).toEqual([canFree]);
  });

  it('req.arrayBuffer(): the bytes whole, and the joined buffer handed over, not freed', async () => {
    const body = randomBytes(300 * 1024);
    const { port, reads } = await start(async (req, res) => {
      const bytes = new Uint8Array(await req.arrayBuffer());
      // Freed memory reads as empty: the caller's bytes must still be all there after a turn.
      await new Promise((r) => setImmediate(r));
      res.end(`${bytes.length} ${sha(bytes)}`);
    });
    expect(await post(port, body, { type: 'application/octet-stream' })).toEqual({ status: 200, text: `${body.length} ${sha(body)}` });
    expect(misfreed(reads, (length) => canFree && length >= MIN_RELEASED)).toEqual([]);
  });

  it('a read another listener also got is not freed: that listener gets every byte too', async () => {
    const body = jsonBody(256 * 1024);
    const tee: Buffer[] = [];
    const { port, reads } = await start(async (req, res) => {
      (req.raw as IncomingMessage).on('data', (c: Buffer) => tee.push(c));
      await req.json();
      await new Promise((r) => setImmediate(r));
      res.end(sha(Buffer.concat(tee)));
    });
    expect(await post(port, body)).toEqual({ status: 200, text: sha(body) });
    expect(reads.length).toBeGreaterThan(1);
    expect(misfreed(reads, () => false)).toEqual([]);
  });

  it('one read that is the whole body: handed over as it is, and freed after parsing', async () => {
    const body = jsonBody(16 * 1024);
    const { port, reads } = await start(async (req, res) => {
      const value = (await req.json()) as { data: string };
      res.end(String(value.data.length));
    });
    expect(await post(port, body)).toEqual({ status: 200, text: String(body.length - 11) });
    expect(misfreed(reads, (length) => canFree && length >= MIN_RELEASED)).toEqual([]);
  });

  it('a flood of 1-byte chunks: parsed whole, and no read is freed (each is under 4 KiB)', async () => {
    const body = jsonBody(16 * 1024);
    const { port, reads } = await start(async (req, res) => {
      const value = (await req.json()) as { data: string };
      res.end(String(value.data.length));
    });
    expect(await post(port, body, { chunked: true, write: 1 })).toEqual({ status: 200, text: String(body.length - 11) });
    expect(reads.reduce((n, r) => n + r.length, 0)).toBe(body.length);
    expect(reads.filter((r) => r.read.buffer.byteLength === 0).map((r) => r.length)).toEqual([]);
  });

  it('a chunked body past the limit: 413, the reads taken so far left whole, and the server still answers', async () => {
    const body = randomBytes(512 * 1024);
    const { port, reads } = await start(async (req, res) => {
      res.end(String((await req.text({ limit: 200 * 1024 })).length));
    });
    expect((await post(port, body, { chunked: true })).status).toBe(413);
    expect(reads.filter((r) => r.length >= MIN_RELEASED).length).toBeGreaterThan(0);
    expect(misfreed(reads, () => false)).toEqual([]);
    expect(await post(port, Buffer.from('"ok"'))).toEqual({ status: 200, text: '4' });
  });
});
