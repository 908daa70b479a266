import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CompressorPool, type CompressorStream } from '../src/compressor_pool.js';
import { zstdAvailable } from '../src/encoders.js';

type Zstd = {
  createZstdCompress(o: object): CompressorStream;
  zstdDecompressSync(b: Buffer): Buffer;
  constants: Record<string, number>;
};
const z = zlib as unknown as Zstd;

const bodies = [
  Buffer.from('a'.repeat(100_000)),
  Buffer.from('{"x":1}'),
  Buffer.alloc(0),
  Buffer.from('b'.repeat(300_000) + 'a'.repeat(50)),
  Buffer.from(JSON.stringify(Array.from({ length: 2_000 }, (_, i) => ({ id: i, name: `item ${i}`, even: i % 2 === 0 })))),
];
const parallel = Array.from({ length: 8 }, (_, i) => Buffer.from(`${i}:`.repeat(20_000 + i * 997)));

const kinds = [
  {
    name: 'gzip',
    skip: false,
    pool: () =>
      new CompressorPool({
        create: () => zlib.createGzip({ level: 6, chunkSize: 128 * 1024 }) as unknown as CompressorStream,
        endKind: zlib.constants.Z_FINISH,
        resetAfterEnd: true,
      }),
    decode: (b: Buffer) => zlib.gunzipSync(b),
    // A reused context must give the very bytes a fresh one gives.
    fresh: (b: Buffer): Buffer | undefined => zlib.gzipSync(b, { level: 6 }),
  },
  {
    name: 'zstd (skipped on a Node without zlib zstd, before 22.15)',
    skip: !zstdAvailable,
    pool: () =>
      new CompressorPool({
        create: () => z.createZstdCompress({ params: { [z.constants.ZSTD_c_compressionLevel!]: 3 }, chunkSize: 128 * 1024 }),
        endKind: z.constants.ZSTD_e_end!,
        resetAfterEnd: false,
      }),
    decode: (b: Buffer) => z.zstdDecompressSync(b),
    fresh: (): Buffer | undefined => undefined,
  },
];

for (const kind of kinds) {
  describe.skipIf(kind.skip)(`CompressorPool, ${kind.name}`, () => {
    it('each body decodes alone, whatever came before it on the same context', async () => {
      const p = kind.pool();
      for (let round = 0; round < 3; round++) {
        for (const body of bodies) {
          const out = await p.compress(body);
          expect(kind.decode(out).equals(body)).toBe(true);
          const fresh = kind.fresh(body);
          if (fresh) expect(out.equals(fresh)).toBe(true);
        }
      }
    });

    it('bodies compressed at the same time each get their own context and their own bytes', async () => {
      const p = kind.pool();
      const outs = await Promise.all(parallel.map((b) => p.compress(b)));
      for (const [i, out] of outs.entries()) expect(kind.decode(out).equals(parallel[i]!)).toBe(true);
      // And the contexts are reused afterwards: a second burst decodes as well.
      const again = await Promise.all(parallel.map((b) => p.compress(b)));
      for (const [i, out] of again.entries()) expect(kind.decode(out).equals(parallel[i]!)).toBe(true);
    });
  });
}
