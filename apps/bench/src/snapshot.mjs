// A private copy of the built workspace packages a contender runs from. `pnpm run build`
// cleans each dist/ before writing it, so a rebuild in another terminal during a run would
// otherwise make Ferry fail to start mid-way, or mix two versions within one table.
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

const isStorePath = (path) => path.split(sep).includes('node_modules');

/** node_modules entries as names, scoped packages included ("@ferry/core"). */
function dependencies(nodeModules) {
  if (!existsSync(nodeModules)) return [];
  const names = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const scoped of readdirSync(join(nodeModules, entry))) names.push(`${entry}/${scoped}`);
    } else {
      names.push(entry);
    }
  }
  return names;
}

/**
 * Copies the workspace package at `pkgDir` (everything but node_modules and dot-directories)
 * under `destRoot`, with its node_modules rebuilt as symlinks: to the snapshot of each
 * workspace dependency, and to the real path of each installed one, which does not change.
 * Returns the copy's directory.
 */
export function snapshotPackage(pkgDir, workspaceRoot, destRoot, done = new Map()) {
  const real = realpathSync(pkgDir);
  if (done.has(real)) return done.get(real);
  const dest = join(destRoot, relative(workspaceRoot, real));
  done.set(real, dest);

  cpSync(real, dest, {
    recursive: true,
    filter: (src) => src === real || !(basename(src) === 'node_modules' || basename(src).startsWith('.')),
  });
  for (const name of dependencies(join(real, 'node_modules'))) {
    const link = join(real, 'node_modules', name);
    if (!lstatSync(link).isSymbolicLink()) continue;
    const target = realpathSync(link);
    const to = isStorePath(target) ? target : snapshotPackage(target, workspaceRoot, destRoot, done);
    mkdirSync(dirname(join(dest, 'node_modules', name)), { recursive: true });
    symlinkSync(to, join(dest, 'node_modules', name));
  }
  return dest;
}
