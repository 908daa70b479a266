import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { defineConfig } from 'tsup';

type Compress = (data: Buffer) => Buffer;

/** zstd where the building Node has it in zlib (22.15 and later); @types/node 20 does not know it. */
const zstd = (zlib as { zstdCompressSync?: (data: Buffer, options?: object) => Buffer }).zstdCompressSync;

const ZSTD_LEVEL = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel ?? 100;

/** The precompressed sidecars file_server serves (`precompressed`), each at its best level: built once, served many times. */
const SIDECARS: [string, Compress][] = [
  ['.gz', (data) => zlib.gzipSync(data, { level: 9 })],
  ['.br', (data) => zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } })],
  ...(zstd ? [['.zst', (data: Buffer) => zstd(data, { params: { [ZSTD_LEVEL]: 19 } })] as [string, Compress]] : []),
];

/**
 * The demo site's files go to dist/demo, where the built CLI serves them with file_server (the
 * embedded default), each with its precompressed sidecars — unless a sidecar would not be smaller.
 * Both builds below finish with it: done once, whichever finishes first.
 */
let demo: Promise<void> | undefined;
const buildDemo = () =>
  (demo ??= Promise.resolve().then(() => {
    cpSync('demo', 'dist/demo', { recursive: true });
    for (const name of readdirSync('demo')) {
      const data = readFileSync(join('demo', name));
      for (const [suffix, compress] of SIDECARS) {
        const packed = compress(data);
        if (packed.length < data.length) writeFileSync(join('dist/demo', name + suffix), packed);
      }
    }
  }));

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    shims: true,
    tsconfig: 'tsconfig.build.json',
    clean: true,
    target: 'node20',
    sourcemap: true,
    onSuccess: buildDemo,
  },
  {
    entry: ['src/cli.ts'],
    format: ['esm'],
    tsconfig: 'tsconfig.build.json',
    target: 'node20',
    sourcemap: true,
    banner: { js: '#!/usr/bin/env node' },
    onSuccess: buildDemo,
  },
]);
