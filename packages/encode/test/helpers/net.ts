/**
 * Real-socket plumbing of the encode tests' own (the shared pieces are in @ferry/test-kit): the
 * server starter (plain, or TLS with h1 and h2), the kit's HTTP/1.1 clients taking a path and
 * trusting the kit's certificate, node:zlib decoders, and compressible test text.
 */
import { once } from 'node:events';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http2';
import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { createServer, type FerryServer, type ResponseWriter, type ServerOptions } from '@ferry/core';
import { certificates } from '@ferry/test-kit/certs';
import * as kit from '@ferry/test-kit/clients';
import { h2Session, type H1Options, type Reply } from '@ferry/test-kit/clients';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { seeded } from '@ferry/test-kit/seeded';
import { serverStarter } from '@ferry/test-kit/servers';
export { defer, deferred };

const startServer = serverStarter(createServer);

/** `await once(res, 'drain')`; rejects when `signal` aborts. */
export function drain(res: ResponseWriter, signal?: AbortSignal): Promise<unknown[]> {
  return once(res, 'drain', signal ? { signal } : {});
}

/**
 * A started Ferry server on 127.0.0.1, logging nothing, closed after the test. `secure` serves
 * h1 and h2 over TLS (ALPN) with the kit's certificate; otherwise plain HTTP/1.1.
 */
export function serve(options: ServerOptions & { secure?: boolean }): Promise<FerryServer> {
  const { secure, ...rest } = options;
  return startServer({ ...(secure ? { tls: certificates().tls, protocols: ['h1', 'h2'] as const } : {}), ...rest });
}

/** The kit's request options for `path` on `url`, trusting the kit's certificate on an https:// URL. */
function onPath(url: string, path: string, options: H1Options): H1Options {
  return { path, ...(url.startsWith('https:') ? { ca: certificates().ca } : {}), ...options };
}

/** The kit's h1Request for `path` on `url` (node:https against a `secure` server). */
export function h1Request(url: string, path: string, options: H1Options = {}): ClientRequest {
  return kit.h1Request(url, onPath(url, path, options));
}

/** The kit's h1Response for `path` on `url`: resolves as soon as the response head arrives. */
export function h1Response(url: string, path: string, options: H1Options = {}): Promise<IncomingMessage> {
  return kit.h1Response(url, onPath(url, path, options));
}

/** The kit's h1Get for `path` on `url`: resolves with the whole (still encoded) body. */
export function h1Get(url: string, path: string, options: H1Options = {}): Promise<Reply> {
  return kit.h1Get(url, onPath(url, path, options));
}

export type Protocol = 'HTTP/1.1' | 'h2';

/** A response whose head has arrived and whose body is still coming. */
export interface Opened {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

/**
 * Starts a GET over HTTP/1.1 (node:http, plain server) or h2 (node:http2, `secure` server) and
 * resolves as soon as the response head arrives.
 */
export async function open(protocol: Protocol, server: FerryServer, path: string, headers: OutgoingHttpHeaders = {}): Promise<Opened> {
  if (protocol === 'HTTP/1.1') {
    const res = await h1Response(server.url, path, { headers: headers as Record<string, string> });
    return { status: res.statusCode!, headers: res.headers, body: res };
  }
  const session = await h2Session(server.url, { ca: certificates().ca });
  const stream = session.request({ ':path': path, ...headers });
  const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  return { status: Number(head[':status']), headers: head, body: stream };
}

/** zstd is only in Node 22.15+/23.8+ zlib, and only in newer @types/node. */
interface ZstdZlib {
  zstdDecompressSync(buf: Buffer): Buffer;
  createZstdDecompress(): Transform;
}

/** Decodes a whole body as its Content-Encoding says (none: as is). */
export function decode(body: Buffer, encoding: string | string[] | undefined): Buffer {
  switch (encoding) {
    case undefined:
      return body;
    case 'gzip':
      return zlib.gunzipSync(body);
    case 'br':
      return zlib.brotliDecompressSync(body);
    case 'zstd':
      return (zlib as unknown as ZstdZlib).zstdDecompressSync(body);
    default:
      throw new Error(`unexpected Content-Encoding ${String(encoding)}`);
  }
}

/** A streaming decoder for a Content-Encoding: what a browser does with a body that arrives in pieces. */
export function decoder(encoding: string): Transform {
  switch (encoding) {
    case 'gzip':
      return zlib.createGunzip();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      return (zlib as unknown as ZstdZlib).createZstdDecompress();
    default:
      throw new Error(`unexpected Content-Encoding ${encoding}`);
  }
}

/**
 * Feeds an encoded response into a streaming decoder and hands out the decoded text as it
 * becomes available: `until(text => …)` resolves as soon as what was decoded so far satisfies it.
 */
export class DecodedStream {
  text = '';
  /** Settles when the decoded stream ends (rejects if it fails). */
  readonly done: Promise<string>;
  #waiters = new Set<() => void>();
  #ended = false;

  /** `onText` sees the decoded text each time it grows, at the moment it grows. */
  constructor(source: NodeJS.ReadableStream, encoding: string | undefined, onText?: (text: string) => void) {
    const out = encoding === undefined ? source : source.pipe(decoder(encoding));
    const end = deferred<string>();
    this.done = end.promise;
    out.on('data', (c: Buffer | string) => {
      this.text += c.toString();
      onText?.(this.text);
      this.#wake();
    });
    out.on('end', () => {
      this.#ended = true;
      end.resolve(this.text);
      this.#wake();
    });
    out.on('error', (err) => {
      this.#ended = true;
      end.reject(err);
      this.#wake();
    });
    this.done.catch(() => {}); // awaited only by the tests that want it
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  until(test: (text: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (test(this.text)) {
          this.#waiters.delete(check);
          resolve(this.text);
        } else if (this.#ended) {
          this.#waiters.delete(check);
          reject(new Error(`stream ended; decoded so far: ${JSON.stringify(this.text.slice(-300))}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }
}

let corpusCache: Buffer | undefined;

/**
 * The first `size` bytes of a 10 MiB text of words drawn at random from a vocabulary of 4096
 * made-up words: random-ish, so it does not collapse to nothing, yet compressible like prose.
 */
export function text(size: number): Buffer {
  if (!corpusCache) {
    const rnd = seeded(0xfe77e);
    const letters = 'etaoinshrdlcumwfgypbvkjxqz';
    const vocabulary = Array.from({ length: 4096 }, () => {
      const n = 2 + Math.floor(rnd() * 9);
      let w = '';
      for (let i = 0; i < n; i++) w += letters[Math.floor(rnd() * rnd() * letters.length)];
      return w;
    });
    const total = 10 * 1024 * 1024;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    while (at < total) {
      const word = vocabulary[Math.floor(rnd() * vocabulary.length)]!;
      const sep = rnd() < 0.08 ? '.\n' : ' ';
      at += out.write(word + sep, at, 'latin1');
    }
    corpusCache = out;
  }
  return corpusCache.subarray(0, size);
}

let noisyCache: Buffer | undefined;

/**
 * The first `size` bytes of 10 MiB of base64 lines of random bytes, like a mail attachment: gzip
 * saves only a quarter of it, so its compressed form outgrows the kernel's socket buffers, which
 * the backpressure tests need to be sure a paused client really holds the handler back.
 */
export function noisyText(size: number): Buffer {
  if (!noisyCache) {
    const rnd = seeded(0x5eed);
    const raw = Buffer.alloc((10 * 1024 * 1024 * 3) / 4);
    for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(rnd() * 256);
    const b64 = raw.toString('base64');
    noisyCache = Buffer.from(b64.replace(/.{76}/g, '$&\n').slice(0, 10 * 1024 * 1024), 'latin1');
  }
  return noisyCache.subarray(0, size);
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
