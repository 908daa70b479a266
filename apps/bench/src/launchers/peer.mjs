// What Caddy's and nginx's launchers share: a Debian binary found or installed once, and a
// private directory per process for its config, pid and temporary files.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findOrInstall } from '../tools.mjs';

/**
 * Finds `name` (installing Debian's `pkg` when we may) and reads its version with `versionArgs`.
 * Returns `{ path, version }`, or `{ skip }`: one line saying why this peer cannot run here.
 */
export function findPeer(name, pkg, versionArgs, parseVersion) {
  if (!peers.has(name)) peers.set(name, lookUp(name, pkg, versionArgs, parseVersion));
  return peers.get(name);
}

/** Looked up once per run: two contenders of one peer do not try apt-get twice. */
const peers = new Map();

function lookUp(name, pkg, versionArgs, parseVersion) {
  const found = findOrInstall(name, pkg);
  if (!found.path) return { skip: `${name} ${found.reason}` };
  const run = spawnSync(found.path, versionArgs, { encoding: 'utf8', timeout: 15_000 });
  // nginx prints its version on stderr.
  const version = parseVersion(`${run.stdout ?? ''}${run.stderr ?? ''}`);
  if (run.status !== 0 || !version) return { skip: `${found.path} ${versionArgs.join(' ')} failed: ${run.error?.message ?? run.stderr}` };
  return { path: found.path, version };
}

/** A fresh directory for one peer process (config, pid file, temp files), inside the run's. */
export function peerDir(workDir, name, port) {
  const dir = join(workDir, `${name}-${port}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
