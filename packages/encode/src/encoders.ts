import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { CompressorPool, type CompressorStream } from './compressor_pool.js';

export type EncodingName = 'zstd' | 'br' | 'gzip';

/** Whether this Node's zlib has zstd (Node 22.15+, 23.8+). */
export const zstdAvailable = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

interface ZstdZlib {
  createZstdCompress(options?: { params?: Record<number, number>; chunkSize?: number }): CompressorStream;
  constants: Record<string, number>;
}

const Z = zlib.constants as unknown as Record<string, number>;
/** Output chunk of a pooled context: a 100 KB JSON body compresses in one threadpool round trip. */
const POOLED_CHUNK = 128 * 1024;

/**
 * zstd's window for a body of `size` bytes (as its Content-Length announced): no larger than the
 * body, so a small response does not get level 3's 2 MiB window. A body longer than announced
 * still compresses correctly, with matches no farther back than the window.
 */
function windowLogFor(size: number): number {
  return Math.min(21, Math.max(10, Math.ceil(Math.log2(Math.max(1, size)))));
}

/** A compressor factory for one encoding at one level, streaming or one-shot. */
export interface Encoder {
  readonly name: EncodingName;
  /** A streaming compressor. */
  stream(sizeHint?: number): Transform;
  /** Pushes out everything written so far (a sync flush), keeping the stream open. */
  flush(stream: Transform, cb: () => void): void;
  /** Compresses a whole body at once. */
  oneShot(body: Buffer): Promise<Buffer>;
}

export function createEncoder(name: EncodingName, level: number): Encoder {
  switch (name) {
    case 'gzip': {
      const opts = { level };
      const members = new CompressorPool({
        create: () => zlib.createGzip({ level, chunkSize: POOLED_CHUNK }) as unknown as CompressorStream,
        endKind: zlib.constants.Z_FINISH,
        resetAfterEnd: true,
      });
      return {
        name,
        stream: () => zlib.createGzip(opts),
        flush: (s, cb) => (s as zlib.Gzip).flush(zlib.constants.Z_SYNC_FLUSH, cb),
        // One long-lived context per concurrent body, each body a gzip member of its own (compressor_pool.ts).
        oneShot: (body) => members.compress(body),
      };
    }
    case 'br': {
      const quality = level;
      const opts = (size?: number) => ({
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
          ...(size !== undefined ? { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size } : {}),
        },
      });
      return {
        name,
        stream: (size) => zlib.createBrotliCompress(opts(size)),
        flush: (s, cb) => (s as zlib.BrotliCompress).flush(zlib.constants.BROTLI_OPERATION_FLUSH, cb),
        oneShot: (body) =>
          new Promise((resolve, reject) => zlib.brotliCompress(body, opts(body.length), (err, out) => (err ? reject(err) : resolve(out)))),
      };
    }
    case 'zstd': {
      const z = zlib as unknown as ZstdZlib;
      const params = { [Z.ZSTD_c_compressionLevel!]: level };
      const frames = new CompressorPool({
        create: () => z.createZstdCompress({ params, chunkSize: POOLED_CHUNK }),
        endKind: Z.ZSTD_e_end!,
        resetAfterEnd: false,
      });
      return {
        name,
        stream: (size) =>
          z.createZstdCompress({ params: size === undefined ? params : { ...params, [Z.ZSTD_c_windowLog!]: windowLogFor(size) } }),
        flush: (s, cb) => (s as CompressorStream).flush(Z.ZSTD_e_flush!, cb),
        // One long-lived context per concurrent body, each body its own frame (compressor_pool.ts).
        oneShot: (body) => frames.compress(body),
      };
    }
  }
}
