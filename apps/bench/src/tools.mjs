// The external programs the harness drives, found on PATH or installed from Debian when we may.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The absolute path of an executable on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  return undefined;
}

/**
 * Returns the path of `name`, installing Debian's `pkg` first when it is missing and we are
 * root with apt-get at hand. Anyone else gets one clear line telling them what to install:
 * the harness never falls back to a Node load generator, whose own CPU use would skew results.
 */
export function ensureTool(name, pkg, why) {
  const found = findOrInstall(name, pkg);
  if (found.path) return found.path;
  throw new Error(`${name} is required (${why}) but ${found.reason}.`);
}

/**
 * `{ path }` of `name`, installed from Debian's `pkg` when missing and we are root with
 * apt-get; otherwise `{ reason }`, one line saying why not, for a peer that can be skipped.
 */
export function findOrInstall(name, pkg) {
  const found = which(name);
  if (found) return { path: found };

  const aptGet = which('apt-get');
  if (!aptGet || process.getuid?.() !== 0) {
    return { reason: `is not on PATH; install it, e.g. \`sudo apt-get install -y ${pkg}\`, and run again` };
  }
  process.stderr.write(`${name} not found; installing Debian package ${pkg}…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync(aptGet, ['install', '-y', '-qq', pkg], { stdio: 'inherit', env }).status === 0;
  // A fresh machine may have no package lists yet; update only when the first attempt fails.
  if (!install()) {
    spawnSync(aptGet, ['update', '-qq'], { stdio: 'inherit', env });
    if (!install()) return { reason: `is not on PATH and \`apt-get install ${pkg}\` failed; install it by hand and run again` };
  }
  const installed = which(name);
  return installed ? { path: installed } : { reason: `is still not on PATH after installing ${pkg}` };
}
