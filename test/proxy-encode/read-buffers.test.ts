/**
 * reverse_proxy reads its HTTP/1.1 upstreams into reused buffers (proxy/src/transport/read_buffers.ts):
 * a buffer's bytes go to the client's response as they are, and the buffer is read into again only
 * once that write called back (ResponseWriter.lendable: Node's responses, encode over them); a
 * wrapper that may keep a chunk gets a copy. These tests
 * make writes wait — slow readers, many responses at once, bodies whose sizes straddle the 64 KiB
 * reads, chunked and Content-Length framing — and check every byte of every answer, over HTTP/1.1
 * and h2c, plain and through encode, twice so the second round runs on pooled buffers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { type ClientHttp2Session, connect as h2connect } from 'node:http2';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createServer, type HandlerInput, type Middleware, ResponseWriterWrapper } from '@ferry/core';
import { encode } from '@ferry/encode';
import { reverseProxy } from '@ferry/proxy';
import { defer } from '@ferry/test-kit/lifecycle';
import { portOf, serverStarter } from '@ferry/test-kit/servers';
import { collectSlowly } from '@ferry/test-kit/streams';
import { sizedUpstream } from './sized-upstream.js';

const startServer = serverStarter(createServer);
const READ = 64 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Bodies by size: sizes around the read size, and larger; each its own random bytes. The 8 MiB
 * one outgrows what loopback's socket buffers take while its reader waits, so the proxy's
 * writes to it stay pending for a while: a buffer read into again too early shows there.
 */
const SIZES = [13, 4_000, READ - 1, READ, READ + 1, 3 * READ + 17, 200_000, 1_500_000, 8 * 1024 * 1024];
const bodies = new Map(SIZES.map((n) => [n, randomBytes(n)]));

/** Reads a body to its end; a slow reader stops after each 64 KiB, the first time for 50 ms, then for 3. */
const readAll = (body: Readable, slow: boolean) => collectSlowly(body, slow ? { every: 64 * 1024, firstMs: 50 } : undefined);

/** Every body, Content-Length and chunked, slow and fast: the paths of one round. */
const asks = SIZES.flatMap((n, i) => [
  { path: `/${n}`, body: bodies.get(n)!, slow: i % 2 === 0 },
  { path: `/chunked/${n}`, body: bodies.get(n)!, slow: i % 2 === 1 },
]);

async function h1Round(port: number, gzip: boolean): Promise<void> {
  const answers = asks.map(async (ask) => {
    const req = request({ host: '127.0.0.1', port, path: ask.path, headers: gzip ? { 'accept-encoding': 'gzip' } : {} });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    const raw = await readAll(res, ask.slow);
    const got = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    if (gzip && ask.body.length > 1000) expect(res.headers['content-encoding']).toBe('gzip');
    expect(got.length).toBe(ask.body.length);
    expect(sha(got)).toBe(sha(ask.body));
  });
  await Promise.all(answers);
}

async function h2Round(session: ClientHttp2Session): Promise<void> {
  const answers = asks.map(async (ask) => {
    const stream = session.request({ ':path': ask.path });
    const [head] = (await once(stream, 'response')) as [Record<string, unknown>];
    expect(head[':status']).toBe(200);
    const got = await readAll(stream, ask.slow);
    expect(got.length).toBe(ask.body.length);
    expect(sha(got)).toBe(sha(ask.body));
  });
  await Promise.all(answers);
}

async function proxy(dial: string, before: HandlerInput[] = []) {
  return startServer({ protocols: ['h1', 'h2c'], handler: [...before, reverseProxy({ upstreams: [{ dial }] })] });
}

describe('reverse_proxy over reused read buffers', () => {
  it('delivers every body byte for byte over HTTP/1.1, many at once, slow readers among them', async () => {
    const server = await proxy((await sizedUpstream(bodies)).dial);
    const port = portOf(server);
    await h1Round(port, false);
    await h1Round(port, false);
  });

  it('delivers every body byte for byte over h2c, all streams on one connection', async () => {
    const server = await proxy((await sizedUpstream(bodies)).dial);
    const session = h2connect(server.url);
    defer(() => void session.close());
    await h2Round(session);
    await h2Round(session);
  });

  it('behind a wrapper that does not say it is lendable (the proxy copies for it), every body arrives over h2c', async () => {
    // h2c: its writes wait in the session, where a chunk not copied would be overwritten.
    const plain: Middleware = (req, res, next) => next(req, new ResponseWriterWrapper(res));
    const server = await proxy((await sizedUpstream(bodies)).dial, [plain]);
    const session = h2connect(server.url);
    defer(() => void session.close());
    await h2Round(session);
    await h2Round(session);
  });

  it('behind encode (lendable: it copies what it holds), every body decodes to its bytes', async () => {
    const server = await proxy((await sizedUpstream(bodies)).dial, [encode({ encodings: { gzip: {} }, minimumLength: 1000 })]);
    const port = portOf(server);
    await h1Round(port, true);
    await h1Round(port, true);
  });

  it('behind encode, bodies it leaves as they are (no gzip asked for) arrive byte for byte over h2c and HTTP/1.1', async () => {
    // encode gathers each declared body in a reused buffer; sent as it is, that buffer is reused
    // only once the write called back — h2c's writes wait in the session the longest.
    const server = await proxy((await sizedUpstream(bodies)).dial, [encode({ encodings: { gzip: {} }, minimumLength: 1000 })]);
    const session = h2connect(server.url);
    defer(() => void session.close());
    await h2Round(session);
    await h2Round(session);
    await h1Round(portOf(server), false);
  });
});
