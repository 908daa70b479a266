import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zstdAvailable } from '../src/encoders.js';
import { ZstdFramePool } from '../src/zstd_frames.js';

type Zstd = {
  createZstdCompress(o: object): never;
  zstdDecompressSync(b: Buffer): Buffer;
  constants: Record<string, number>;
};
const z = zlib as unknown as Zstd;

describe.skipIf(!zstdAvailable)('ZstdFramePool (skipped on a Node without zlib zstd, before 22.15)', () => {
  const pool = () => new ZstdFramePool((o) => z.createZstdCompress(o), { [z.constants.ZSTD_c_compressionLevel!]: 3 });

  it('each body is a frame of its own that decodes alone, whatever came before it on the same context', async () => {
    const p = pool();
    const bodies = [
      Buffer.from('a'.repeat(100_000)),
      Buffer.from('{"x":1}'),
      Buffer.alloc(0),
      Buffer.from('b'.repeat(300_000) + 'a'.repeat(50)),
    ];
    for (let round = 0; round < 3; round++) {
      for (const body of bodies) {
        const out = await p.compress(body);
        expect(z.zstdDecompressSync(out).equals(body)).toBe(true);
      }
    }
  });

  it('bodies compressed at the same time each get their own context and their own bytes', async () => {
    const p = pool();
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`${i}:`.repeat(20_000 + i * 997)));
    const outs = await Promise.all(bodies.map((b) => p.compress(b)));
    for (const [i, out] of outs.entries()) expect(z.zstdDecompressSync(out).equals(bodies[i]!)).toBe(true);
  });
});
