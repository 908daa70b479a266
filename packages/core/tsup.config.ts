import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base.js';

// Two entry points sharing one copy of every module (the default registry, the writer classes):
// split chunks for CJS too, not only ESM.
export default defineConfig({ ...libraryBuild, entry: ['src/index.ts', 'src/internal.ts'], splitting: true });
