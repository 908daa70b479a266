/**
 * Streams: compression keeps backpressure end to end (a slow client holds the handler back, so
 * memory stays bounded), and a client that leaves stops the compressor and frees it.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Handler, Middleware } from '@ferry/core';
import { encode } from '../src/index.js';
import { decode, deferred, defer, drain, h1Request, KiB, MiB, noisyText, open, serve, type Protocol } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { collect } from '@ferry/test-kit/streams';

const TOTAL = 10 * MiB;
const CHUNK = 16 * KiB;
const PROTOCOLS: Protocol[] = ['HTTP/1.1', 'h2'];

/** Streams 10 MiB with backpressure (`await once(res, 'drain')`) and reports what it saw. */
function producer(type = 'text/plain') {
  const progress = { written: 0, refused: 0, finished: false };
  const handler: Handler = async (req, res) => {
    res.setHeader('content-type', type);
    const body = noisyText(TOTAL);
    for (let i = 0; i < TOTAL; i += CHUNK) {
      const ok = res.write(body.subarray(i, i + CHUNK));
      progress.written = Math.min(TOTAL, i + CHUNK);
      if (!ok) {
        progress.refused++;
        await drain(res, req.signal);
      }
    }
    res.end();
    progress.finished = true;
  };
  return { handler, progress };
}

/**
 * Records every gzip compressor that compresses anything while the test runs, by wrapping the
 * zlib streams' `_transform` (it still does the work): so a test can check that each was
 * destroyed. Observation only; the compressors, like the sockets, are real.
 */
function trackCompressors(): Set<zlib.Gzip> {
  const base = Object.getPrototypeOf(Object.getPrototypeOf(zlib.Gzip.prototype)) as { _transform: (...args: unknown[]) => unknown };
  const original = base._transform;
  const seen = new Set<zlib.Gzip>();
  base._transform = function (this: unknown, ...args: unknown[]) {
    if (this instanceof zlib.Gzip) seen.add(this);
    return original.apply(this, args);
  };
  defer(() => (base._transform = original));
  return seen;
}

describe('backpressure', () => {
  for (const protocol of PROTOCOLS) {
    it(`over ${protocol}: a client that stops reading holds the handler back, and the 10 MiB still arrive byte for byte`, async () => {
      const p = producer();
      const server = await serve({ secure: protocol === 'h2', handler: [encode({ encodings: { gzip: {} } }), p.handler] });
      const opened = await open(protocol, server, '/', { 'accept-encoding': 'gzip' });
      expect(opened.headers['content-encoding']).toBe('gzip');
      opened.body.pause();
      // The slow reader of the scenario reads nothing for a while. The body compresses to about
      // 7.6 MB, more than the kernel's socket buffers hold: the handler must be held back.
      await delay(400);
      expect(p.progress.refused).toBeGreaterThan(0);
      expect(p.progress.finished).toBe(false);
      expect(p.progress.written).toBeLessThan(TOTAL);
      const body = await collect(opened.body);
      expect(p.progress.finished).toBe(true);
      expect(decode(body, 'gzip').equals(noisyText(TOTAL))).toBe(true);
    });
  }

  for (const protocol of PROTOCOLS) {
    it(`over ${protocol}: a 10 MiB stream encode leaves unencoded (image/png) keeps its backpressure and arrives byte for byte`, async () => {
      const p = producer('image/png');
      const server = await serve({ secure: protocol === 'h2', handler: [encode({ encodings: { gzip: {} } }), p.handler] });
      const opened = await open(protocol, server, '/', { 'accept-encoding': 'gzip' });
      expect(opened.headers['content-encoding']).toBeUndefined();
      const body = await collect(opened.body);
      expect(p.progress.refused).toBeGreaterThan(0);
      expect(p.progress.finished).toBe(true);
      expect(body.equals(noisyText(TOTAL))).toBe(true);
    });
  }
});

describe('a client that leaves mid-stream', () => {
  for (const protocol of PROTOCOLS) {
    it(`over ${protocol}: aborts req.signal, closes the response, and the compressor is destroyed without an unhandled error`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (err: unknown) => unhandled.push(err);
      process.on('unhandledRejection', onUnhandled);
      defer(() => process.off('unhandledRejection', onUnhandled));
      const compressors = trackCompressors();

      const aborted = deferred();
      const closed = deferred();
      const settled = deferred();
      // In front of encode: sees the request's signal, the response's close, and encode settling.
      const watch: Middleware = async (req, res, next) => {
        req.signal.addEventListener('abort', () => aborted.resolve());
        res.once('close', () => closed.resolve());
        try {
          await next(req, res);
        } finally {
          settled.resolve();
        }
      };
      const p = producer();
      const server = await serve({ secure: protocol === 'h2', handler: [watch, encode({ encodings: { gzip: {} } }), p.handler] });

      if (protocol === 'HTTP/1.1') {
        const req = h1Request(server.url, '/', { headers: { 'accept-encoding': 'gzip' } });
        const [res] = (await once(req, 'response')) as [IncomingMessage];
        await once(res, 'data');
        req.destroy();
      } else {
        const session = await h2Session(server.url, { ca: certificates().ca });
        const stream = session.request({ ':path': '/', 'accept-encoding': 'gzip' });
        await once(stream, 'data');
        stream.close(0x8); // RST_STREAM CANCEL
      }

      await Promise.all([aborted.promise, closed.promise, settled.promise]);
      expect(p.progress.finished).toBe(false);
      expect(compressors.size).toBe(1);
      for (const c of compressors) expect(c.destroyed).toBe(true);
      // Anything rejected on the way out surfaces within a turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    });
  }
});
