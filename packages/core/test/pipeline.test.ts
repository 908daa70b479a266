/**
 * `res` as a writable stream at run time, for Node's own stream functions: `pipeline` (a file, a
 * generated stream), `stream.finished`, `readable.pipe` — into the writer a handler gets and into
 * a `ResponseWriterWrapper` subclass, over HTTP/1.1 and h2c, with real clients: the whole body
 * arrives, a client that stops reading holds the source back, and a client that leaves makes
 * the pipeline reject and destroys the source.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { h1Request } from '@ferry/test-kit/clients';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { collect } from '@ferry/test-kit/streams';
import { ResponseWriterWrapper, type Handler, type ResponseWriter } from '../src/index.js';
import { useServers } from './helpers/http.js';

const serve = useServers();

type Protocol = 'HTTP/1.1' | 'h2c';
const CHUNK = 64 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'ferry-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = join(dir, 'body.bin');
const FILE_BYTES = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < FILE_BYTES.length; i++) FILE_BYTES[i] = (i * 31 + (i >> 10)) & 0xff;
writeFileSync(FILE, FILE_BYTES);

/** A wrapper as a module author writes one: it only counts the bytes going through. */
class Counting extends ResponseWriterWrapper {
  bytes = 0;
  override write(chunk: unknown, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    this.bytes += (chunk as Buffer).length;
    return super.write(chunk, encoding, cb);
  }
}

const WRITERS: Record<string, (res: ResponseWriter) => ResponseWriter> = {
  'the writer itself': (res) => res,
  'a ResponseWriterWrapper subclass': (res) => new Counting(res),
};

/** An endless source of 64 KiB chunks that counts what it was asked for. */
function endless() {
  const source = new Readable({
    read() {
      source.produced += CHUNK;
      this.push(Buffer.alloc(CHUNK, 0x61));
    },
  }) as Readable & { produced: number };
  source.produced = 0;
  return source;
}

interface Opened {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** Cuts the exchange from the client's side. */
  leave(): void;
}

async function open(protocol: Protocol, url: string): Promise<Opened> {
  if (protocol === 'HTTP/1.1') {
    const req = h1Request(url, { path: '/' });
    req.on('error', () => {});
    const [res] = (await once(req, 'response')) as [Readable & { statusCode: number; headers: IncomingHttpHeaders }];
    res.on('error', () => {});
    return { status: res.statusCode, headers: res.headers, body: res, leave: () => req.destroy() };
  }
  const session = h2connect(url);
  session.on('error', () => {});
  defer(() => session.destroy());
  const stream = session.request({ ':path': '/' });
  stream.on('error', () => {});
  const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  return { status: Number(head[':status']), headers: head, body: stream, leave: () => session.destroy() };
}

const start = (protocol: Protocol, handler: Handler) => serve({ protocols: protocol === 'h2c' ? ['h1', 'h2c'] : ['h1'], handler });

describe.each(['HTTP/1.1', 'h2c'] as Protocol[])('over %s', (protocol) => {
  describe.each(Object.entries(WRITERS))('into %s', (_name, writer) => {
    it('await pipeline(fs.createReadStream(file), res) sends the whole file, and finished(res) resolves', async () => {
      const done = deferred<string>();
      const server = await start(protocol, async (_req, res) => {
        const w = writer(res);
        await pipeline(createReadStream(FILE), w);
        await finished(w);
        done.resolve(w instanceof Counting ? String(w.bytes) : 'plain');
      });
      const r = await open(protocol, server.url);
      expect((await collect(r.body)).equals(FILE_BYTES)).toBe(true);
      const counted = await done.promise;
      if (counted !== 'plain') expect(Number(counted)).toBe(FILE_BYTES.length);
    });

    it('readable.pipe(res) sends the whole stream', async () => {
      const server = await start(protocol, async (_req, res) => {
        const w = writer(res);
        Readable.from(['one ', 'two ', 'three']).pipe(w);
        await finished(w);
      });
      expect((await collect((await open(protocol, server.url)).body)).toString()).toBe('one two three');
    });

    it('a client that stops reading holds the source back; when it reads again, everything arrives', async () => {
      const TOTAL = 32 * 1024 * 1024;
      const heldAt = deferred<number>();
      const server = await start(protocol, async (_req, res) => {
        let produced = 0;
        const source = new Readable({
          read() {
            if (produced >= TOTAL) return void this.push(null);
            produced += CHUNK;
            this.push(Buffer.alloc(CHUNK, 0x62));
          },
        });
        // pipe() pauses the source when the writer says it is full.
        source.once('pause', () => heldAt.resolve(produced));
        await pipeline(source, writer(res));
      });
      const r = await open(protocol, server.url);
      r.body.pause();
      const produced = await heldAt.promise;
      expect(produced).toBeLessThan(TOTAL / 2);
      expect((await collect(r.body)).length).toBe(TOTAL);
    });

    it('a client that leaves mid-stream makes the pipeline reject and destroys the source', async () => {
      const outcome = deferred<{ error: unknown; sourceDestroyed: boolean; finishedError: unknown; lateFinishedError: unknown }>();
      const streaming = deferred();
      const server = await start(protocol, async (_req, res) => {
        const w = writer(res);
        const source = endless();
        const whenFinished = finished(w).then(
          () => undefined,
          (err: unknown) => err,
        );
        streaming.resolve();
        const error = await pipeline(source, w).then(
          () => undefined,
          (err: unknown) => err,
        );
        // Asked again once it is all over, finished() still tells an abort from an end.
        const lateFinishedError = await finished(w).then(
          () => undefined,
          (err: unknown) => err,
        );
        outcome.resolve({ error, sourceDestroyed: source.destroyed, finishedError: await whenFinished, lateFinishedError });
      });
      const r = await open(protocol, server.url);
      await streaming.promise;
      // Read some of the body, then go.
      await once(r.body, 'data');
      r.leave();
      const o = await outcome.promise;
      expect(o.error).toBeInstanceOf(Error);
      expect(o.sourceDestroyed).toBe(true);
      expect(o.finishedError).toBeInstanceOf(Error);
      expect(o.lateFinishedError).toBeInstanceOf(Error);
    });
  });
});
