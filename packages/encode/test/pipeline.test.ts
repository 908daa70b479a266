/**
 * `pipeline(readable, res)` into encode's writer (a ResponseWriterWrapper that compresses), over
 * HTTP/1.1 and h2 with real clients: the file arrives compressed and whole, a client that stops
 * reading holds the source back, and a client that leaves makes the pipeline reject and
 * destroys the source.
 */
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { collect } from '@ferry/test-kit/streams';
import { encode } from '../src/index.js';
import { decode, deferred, MiB, noisyText, open, serve, text, type Protocol } from './helpers/net.js';

const GZIP = { 'accept-encoding': 'gzip' };
const dir = mkdtempSync(join(tmpdir(), 'ferry-encode-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = join(dir, 'page.html');
const PAGE = text(2 * MiB);
writeFileSync(FILE, PAGE);

describe.each(['HTTP/1.1', 'h2'] as Protocol[])('pipeline into encode over %s', (protocol) => {
  it('a file piped into res arrives gzip-encoded and decodes to the same bytes', async () => {
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        encode({ encodings: { gzip: {} } }),
        async (_req, res) => {
          res.setHeader('content-type', 'text/html');
          await pipeline(createReadStream(FILE), res);
        },
      ],
    });
    const r = await open(protocol, server, '/', GZIP);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(decode(await collect(r.body), 'gzip').equals(PAGE)).toBe(true);
  });

  it('a client that stops reading holds the source back; reading again, it gets everything', async () => {
    const SOURCE = noisyText(10 * MiB);
    const heldAt = deferred<number>();
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        encode({ encodings: { gzip: {} } }),
        async (_req, res) => {
          res.setHeader('content-type', 'text/plain');
          let at = 0;
          const source = new Readable({
            read() {
              if (at >= SOURCE.length) return void this.push(null);
              this.push(SOURCE.subarray(at, at + 64 * 1024));
              at += 64 * 1024;
            },
          });
          source.once('pause', () => heldAt.resolve(at));
          await pipeline(source, res);
        },
      ],
    });
    const r = await open(protocol, server, '/', GZIP);
    r.body.pause();
    expect(await heldAt.promise).toBeLessThan(SOURCE.length);
    expect(decode(await collect(r.body), 'gzip').equals(SOURCE)).toBe(true);
  });

  it('a client that leaves mid-stream makes the pipeline reject and destroys the source', async () => {
    const outcome = deferred<{ error: unknown; destroyed: boolean }>();
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        encode({ encodings: { gzip: {} } }),
        async (_req, res) => {
          res.setHeader('content-type', 'text/plain');
          const source = new Readable({
            read() {
              this.push(noisyText(64 * 1024));
            },
          });
          const error = await pipeline(source, res).then(
            () => undefined,
            (err: unknown) => err,
          );
          outcome.resolve({ error, destroyed: source.destroyed });
        },
      ],
    });
    const r = await open(protocol, server, '/', GZIP);
    await once(r.body, 'data');
    r.body.destroy();
    const o = await outcome.promise;
    expect(o.error).toBeInstanceOf(Error);
    expect(o.destroyed).toBe(true);
  });
});
