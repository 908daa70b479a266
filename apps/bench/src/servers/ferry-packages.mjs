// Ferry's packages for a server that mounts Ferry in another framework. The harness gives the
// snapshot of the build it took before the first round ($FERRY_DIR, launchers/ferry.mjs), so a
// rebuild during a run cannot break or mix it, as for the CLI contenders; run by hand, the
// workspace's own build (apps/ferry).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ferryDir = process.env.FERRY_DIR || fileURLToPath(new URL('../../../ferry/', import.meta.url));

/** `import(name)` as @ferry/ferry would resolve it (@ferry/core, @ferry/encode, @ferry/proxy): its ES module build. */
export async function importFerry(name) {
  const dir = join(ferryDir, 'node_modules', name);
  const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return import(pathToFileURL(join(dir, exports['.'].import.default)).href);
}
