/**
 * encode is lendable over a lendable writer (ResponseWriter.lendable): a chunk written with a
 * callback may be overwritten by its owner as soon as the callback ran (the proxy reuses its read
 * buffers that way). Each handler here scribbles over every chunk in its callback; the client must
 * still get the original bytes — held while the head waits (declared length or not), compressed
 * as a stream, or passed through uncompressed — over HTTP/1.1 and h2.
 */
import { describe, expect, it } from 'vitest';
import { type Handler, type Middleware, ResponseWriterWrapper } from '@ferry/core';
import { encode } from '../src/index.js';
import { decode, KiB, noisyText, open, serve, type Protocol } from './helpers/net.js';
import { collect } from '@ferry/test-kit/streams';

const PROTOCOLS: Protocol[] = ['HTTP/1.1', 'h2'];

/** Writes `body` in pieces of `piece` bytes, each a fresh buffer overwritten once its write called back; `declare`: Content-Length. */
function scribbling(body: Buffer, piece: number, type: string, declare: boolean): Handler {
  return async (_req, res) => {
    res.setHeader('content-type', type);
    if (declare) res.setHeader('content-length', body.length);
    expect(res.lendable).toBe(true);
    for (let at = 0; at < body.length; at += piece) {
      const lent = Buffer.from(body.subarray(at, at + piece));
      const called = new Promise<void>((resolve) =>
        res.write(lent, () => {
          lent.fill(0x58);
          resolve();
        }),
      );
      // The next piece only once this one is released: what was kept must be a copy by then.
      await called;
    }
    const last = Buffer.from('-- the end --');
    await new Promise<void>((resolve) => res.end(last, () => resolve()));
    last.fill(0x58);
  };
}

const CASES = [
  {
    name: 'a declared body held whole (Content-Length, compressible)',
    size: 200 * KiB,
    piece: 24 * KiB,
    type: 'text/plain',
    declare: true,
  },
  { name: 'an undeclared body, held then compressed as a stream', size: 300 * KiB, piece: 20 * KiB, type: 'text/plain', declare: false },
  { name: 'small pieces under minimum_length first', size: 40 * KiB, piece: 100, type: 'text/plain', declare: false },
  { name: 'a type encode leaves alone (identity)', size: 150 * KiB, piece: 32 * KiB, type: 'image/png', declare: false },
];

describe('encode with lent chunks', () => {
  for (const protocol of PROTOCOLS) {
    it.each(CASES)(`${protocol}: $name arrives byte for byte`, async ({ size, piece, type, declare }) => {
      const body = noisyText(size);
      const expected = Buffer.concat([body, Buffer.from('-- the end --')]);
      const server = await serve({
        secure: protocol === 'h2',
        handler: [encode({ encodings: { gzip: {} }, minimumLength: 1024 }), scribbling(body, piece, type, declare)],
      });
      const res = await open(protocol, server, '/', { 'accept-encoding': 'gzip' });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe(type === 'image/png' ? undefined : 'gzip');
      const got = decode(await collect(res.body), res.headers['content-encoding']);
      expect(got.length).toBe(expected.length);
      expect(got.equals(expected)).toBe(true);
    });
  }

  it('is not lendable over a writer that is not', async () => {
    let seen: boolean | undefined;
    const look: Handler = async (_req, res) => {
      seen = res.lendable;
      res.end('x');
    };
    // A wrapper that says nothing of lending, under encode: encode cannot promise more than it.
    const plain: Middleware = (req, res, next) => next(req, new ResponseWriterWrapper(res));
    const server = await serve({ handler: [plain, encode({ encodings: { gzip: {} } }), look] });
    const res = await open('HTTP/1.1', server, '/', {});
    await collect(res.body);
    expect(seen).toBe(false);
  });
});
