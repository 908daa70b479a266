// The files scenario's site: three files of deterministic bytes in the run's directory, written
// once, served by every contender from the same folder (the root comes in $FILES_ROOT).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deterministicBytes } from './payloads.mjs';

/** The files, by request path, and their sizes. */
export const FILES = [
  { id: '1k', path: '/1k.bin', size: 1024 },
  { id: '100k', path: '/100k.bin', size: 100 * 1024 },
  { id: '10m', path: '/10m.bin', size: 10 * 1024 * 1024 },
];

/** The site's folder under `workDir`, written the first time it is asked for. */
export function siteRoot(workDir) {
  const root = join(workDir, 'site');
  if (!existsSync(root)) {
    mkdirSync(root, { recursive: true });
    for (const f of FILES) writeFileSync(join(root, f.path.slice(1)), deterministicBytes(f.size));
  }
  return root;
}

/** The root a server file was started with. */
export function rootFromEnv() {
  const root = process.env.FILES_ROOT;
  if (!root) {
    process.stderr.write('usage: FILES_ROOT=DIR node SERVER PORT\n');
    process.exit(2);
  }
  return root;
}
