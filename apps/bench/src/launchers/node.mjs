// Contenders that are one of our small Node server files (src/servers/), run on the Node the
// servers run on: the harness's own, or the one given with --node.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const srcDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const serversDir = join(srcDir, 'servers');
export const benchDir = dirname(srcDir);

/**
 * The installed version of a dependency. Read from node_modules directly because not every
 * package exports its package.json (hono does not), so require.resolve cannot reach it.
 */
export function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** The version of the Node binary at `node` ("v24.1.0"), or throws saying why it will not run. */
export function nodeVersion(node) {
  if (node === process.execPath) return process.version;
  const run = spawnSync(node, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  if (run.status !== 0) throw new Error(`--node ${node} does not run: ${run.error?.message ?? run.stderr.trim()}`);
  return run.stdout.trim();
}

/**
 * A contender that is `src/servers/<file>`, given its port as argv[2] and, when it fronts an
 * upstream, the upstream's port as argv[3].
 */
export function nodeServer(file) {
  return (port, ctx) => ({
    command: ctx.node,
    args: [join(serversDir, file), String(port), ...(ctx.upstream ? [String(ctx.upstream.port)] : [])],
    env: {},
  });
}
