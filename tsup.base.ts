import { defineConfig } from 'tsup';

/** The build every library package shares: ESM + CJS + .d.ts from src/index.ts, for Node 20+. */
export const libraryBuild = defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  clean: true,
  target: 'node20',
  sourcemap: true,
});
