import { cpSync } from 'node:fs';
import { defineConfig } from 'tsup';

// The demo page's files are read at run time from dist/demo.
const copyDemo = async () => cpSync('demo', 'dist/demo', { recursive: true });

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
    onSuccess: copyDemo,
  },
  {
    entry: ['src/cli.ts'],
    format: ['esm'],
    tsconfig: 'tsconfig.build.json',
    target: 'node20',
    sourcemap: true,
    banner: { js: '#!/usr/bin/env node' },
    onSuccess: copyDemo,
  },
]);
