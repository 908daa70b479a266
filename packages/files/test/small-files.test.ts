/**
 * Files up to 256 KiB are read whole — one read after open, into a buffer of their own — and sent
 * with one end() (send.ts). Over h2c an answer waits in that buffer while its stream has no
 * window, as other answers are read and sent: a buffer shared or reused before its write called
 * back would put one file's bytes into another's answer (as it does when send.ts gives a pooled
 * buffer back right after end(): these tests fail then). Checked byte for byte, over h2c and
 * HTTP/1.1, whole and in ranges, with answers held back and streams that leave, plain and behind
 * encode.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { type ClientHttp2Session, connect as h2connect, constants as h2 } from 'node:http2';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encode } from '@ferry/encode';
import { portOf } from '@ferry/test-kit/servers';
import { collectSlowly } from '@ferry/test-kit/streams';
import { fileServer } from '../src/index.js';
import { defer, makeSite, serve, streamWindow } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Sizes around the h2 window, the pooled buffer (256 KiB: read into a fresh one) and below. */
const SIZES = [1, 1000, 65_535, 65_537, 100_000, 200_000, 256 * 1024 - 1, 256 * 1024];
const files = Object.fromEntries(SIZES.map((n) => [`f${n}.txt`, randomBytes(n)]));

interface Ask {
  name: string;
  range?: [number, number];
  /** Held back (no stream window) until the others of its round are in. */
  stall: boolean;
}

/** Every file whole, a range of each that is long enough, stalled and not. */
const ASKS: Ask[] = SIZES.flatMap((n, i) => {
  const name = `f${n}.txt`;
  const asks: Ask[] = [{ name, stall: i % 2 === 0 }];
  if (n > 2000) asks.push({ name, range: [17, n - 1000], stall: i % 2 === 1 });
  return asks;
});

function expected(ask: Ask): Buffer {
  const file = files[ask.name]!;
  return ask.range ? file.subarray(ask.range[0], ask.range[1] + 1) : file;
}

async function site(gzip = false) {
  const { root } = makeSite(files);
  const handle = gzip ? [encode({ encodings: { gzip: {} } }), fileServer({ root })] : [fileServer({ root })];
  return serve({ protocols: ['h1', 'h2c'], routes: [{ handle }] });
}

function h2Ask(session: ClientHttp2Session, ask: Ask, gzip: boolean) {
  const headers: Record<string, string> = { ':path': `/${ask.name}` };
  if (ask.range) headers.range = `bytes=${ask.range[0]}-${ask.range[1]}`;
  if (gzip) headers['accept-encoding'] = 'gzip';
  const stream = session.request(headers);
  return { ask, stream, response: once(stream, 'response') as Promise<[Record<string, unknown>]> };
}

async function h2Check({ ask, stream, response }: ReturnType<typeof h2Ask>): Promise<void> {
  const [[head], body] = await Promise.all([response, collectSlowly(stream)]);
  expect(head[':status'], ask.name).toBe(ask.range ? 206 : 200);
  const got = head['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  expect(sha(got), `${ask.name} ${ask.range ?? 'whole'}`).toBe(sha(expected(ask)));
}

/**
 * One round. The stalled asks go first, over `stalling`, whose streams have no window: each until
 * its head is in (the server has called end(), and the body waits in the buffer it was read into);
 * then the others over `session`, read whole — they take buffers and read other files into them;
 * then the stalled streams get their window and are read.
 */
async function h2Round(stalling: ClientHttp2Session, session: ClientHttp2Session, gzip: boolean): Promise<void> {
  await streamWindow(stalling, 0);
  const held = ASKS.filter((ask) => ask.stall).map((ask) => h2Ask(stalling, ask, gzip));
  await Promise.all(held.map((h) => h.response));
  await Promise.all(ASKS.filter((ask) => !ask.stall).map((ask) => h2Check(h2Ask(session, ask, gzip))));
  await streamWindow(stalling, 65_535);
  await Promise.all(held.map(h2Check));
}

function h1Get(port: number, ask: Ask): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = ask.range ? { range: `bytes=${ask.range[0]}-${ask.range[1]}` } : {};
    const req = request({ host: '127.0.0.1', port, path: `/${ask.name}`, headers, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

const readAll = (body: Readable) => collectSlowly(body);

/** An h2c session whose connection window takes every answer of a round: only a stream's own window holds one back. */
async function connectH2(port: number): Promise<ClientHttp2Session> {
  const session = h2connect(`http://127.0.0.1:${port}`);
  defer(() => session.close());
  await once(session, 'connect');
  session.setLocalWindowSize(32 * 1024 * 1024);
  return session;
}

describe('small files, read whole', () => {
  it('h2c: answers held back by their window keep their bytes while others reuse buffers, three rounds', async () => {
    const server = await site();
    const [stalling, session] = [await connectH2(portOf(server)), await connectH2(portOf(server))];
    for (let round = 0; round < 3; round++) await h2Round(stalling, session, false);
  });

  it('behind encode (gzip), the same: every answer decodes to its own file', async () => {
    const server = await site(true);
    const [stalling, session] = [await connectH2(portOf(server)), await connectH2(portOf(server))];
    for (let round = 0; round < 2; round++) await h2Round(stalling, session, true);
  });

  it('HTTP/1.1: every file, whole and in ranges, all at once, twice', async () => {
    const port = portOf(await site());
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        ASKS.map(async (ask) => {
          const res = await h1Get(port, ask);
          expect(res.statusCode).toBe(ask.range ? 206 : 200);
          expect(Number(res.headers['content-length'])).toBe(expected(ask).length);
          expect(sha(await readAll(res))).toBe(sha(expected(ask)));
        }),
      );
    }
  });

  it('streams cancelled while held back leave later answers right', async () => {
    const server = await site();
    const session = await connectH2(portOf(server));
    await streamWindow(session, 0);
    const leavers = [200_000, 256 * 1024 - 1, 100_000, 1000].map(async (n) => {
      const stream = session.request({ ':path': `/f${n}.txt` });
      stream.on('error', () => {});
      await once(stream, 'response');
      stream.close(h2.NGHTTP2_CANCEL);
      await once(stream, 'close');
    });
    await Promise.all(leavers);
    const other = await connectH2(portOf(server));
    for (let round = 0; round < 2; round++) await h2Round(session, other, false);
  });
});
