import * as zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import { ZstdFramePool } from './zstd_frames.js';

export type EncodingName = 'zstd' | 'br' | 'gzip';

/** Whether this Node's zlib has zstd (Node 22.15+, 23.8+). */
export const zstdAvailable = typeof (zlib as { createZstdCompress?: unknown }).createZstdCompress === 'function';

interface ZstdZlib {
  createZstdCompress(options?: {
    params?: Record<number, number>;
    chunkSize?: number;
  }): Transform & { flush(kind: number, cb: () => void): void };
  constants: Record<string, number>;
}

const Z = zlib.constants as unknown as Record<string, number>;

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
      return {
        name,
        stream: () => zlib.createGzip(opts),
        flush: (s, cb) => (s as zlib.Gzip).flush(zlib.constants.Z_SYNC_FLUSH, cb),
        oneShot: (body) => new Promise((resolve, reject) => zlib.gzip(body, opts, (err, out) => (err ? reject(err) : resolve(out)))),
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
      const frames = new ZstdFramePool((options) => z.createZstdCompress(options), params);
      return {
        name,
        stream: (size) =>
          z.createZstdCompress({ params: size === undefined ? params : { ...params, [Z.ZSTD_c_windowLog!]: windowLogFor(size) } }),
        flush: (s, cb) => (s as ReturnType<ZstdZlib['createZstdCompress']>).flush(Z.ZSTD_e_flush!, cb),
        // One long-lived context per concurrent body, each body its own frame (zstd_frames.ts).
        oneShot: (body) => frames.compress(body),
      };
    }
  }
}
