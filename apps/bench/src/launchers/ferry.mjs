// Ferry as operators run it: the real `ferry` CLI of the workspace's @ferry/ferry, as built by
// `pnpm run build`, with a JSON config, run from a snapshot of the build taken before the first
// round (see snapshot.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { snapshotPackage } from '../snapshot.mjs';
import { benchDir, nodeServer, versionOf } from './node.mjs';

const require = createRequire(import.meta.url);
const workspaceRoot = dirname(dirname(benchDir));

/** One snapshot per run, shared by every Ferry contender: they all run the same build. */
const snapshots = new Map();

/** The snapshot: `{ dir, cli }`, its copy of @ferry/ferry and the path of its CLI; taken once per work directory. */
function ferrySnapshot(workDir, node) {
  if (!snapshots.has(workDir)) snapshots.set(workDir, takeSnapshot(workDir, node));
  return snapshots.get(workDir);
}

async function takeSnapshot(workDir, node) {
  const pkgDir = dirname(require.resolve('@ferry/ferry/package.json'));
  const { bin } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (!existsSync(join(pkgDir, bin.ferry))) {
    throw new Error(`${join(pkgDir, bin.ferry)} does not exist: build first (\`npx -y pnpm@10.34.8 run build\`).`);
  }
  // A build running elsewhere may be half-way through its dist/ (or through its packages, one
  // built against the other's new exports): take the snapshot again until the copied CLI
  // loads, for up to two minutes, about what a full build takes.
  for (let attempt = 1; ; attempt++) {
    let problem;
    const dir = join(workDir, `snapshot-${attempt}`);
    try {
      const copy = snapshotPackage(pkgDir, workspaceRoot, dir);
      const cli = join(copy, bin.ferry);
      const check = spawnSync(node, [cli, 'version'], { encoding: 'utf8', timeout: 15_000 });
      if (check.status === 0) return { dir: copy, cli };
      problem = check.stderr || check.stdout || `exit ${check.status}`;
    } catch (error) {
      problem = error.message;
    }
    rmSync(dir, { recursive: true, force: true });
    if (attempt === 24) throw new Error(`the built ferry CLI does not start:\n${problem}`);
    if (attempt === 1) console.log('the built ferry CLI does not start (a build in progress?): trying again every 5 s for 2 minutes');
    await sleep(5000);
  }
}

/**
 * A Ferry contender: `config(port, ctx)` is its JSON config (ctx.upstream.port when it fronts
 * an upstream). With `workers`, it runs `ferry run --workers N` (the workers scenario), and with
 * `sched: 'none'` node:cluster's other scheduling policy (NODE_CLUSTER_SCHED_POLICY).
 */
export function ferryContender({ id, what, config, workers, sched }) {
  let cli;
  const flags = workers === undefined ? '' : `, --workers ${workers}${sched ? `, NODE_CLUSTER_SCHED_POLICY=${sched}` : ''}`;
  return {
    id,
    label: `ferry ${versionOf('@ferry/ferry')} (CLI${flags}${what ? `, ${what}` : ''})`,
    async prepare(ctx) {
      ({ cli } = await ferrySnapshot(ctx.workDir, ctx.node));
    },
    start(port, ctx) {
      const file = join(ctx.workDir, `ferry-${port}.json`);
      writeFileSync(file, JSON.stringify(config(port, ctx)));
      const args = [cli, 'run', '--config', file];
      // Log level warn: no access log and no start-up lines, only what is worth reading.
      if (workers === undefined) return { command: ctx.node, args, env: { FERRY_LOG_LEVEL: 'warn' } };
      // The port answers once the first worker listens: wait for the line saying all do. (At
      // level info the config, which has no `logs`, still logs nothing per request.)
      return {
        command: ctx.node,
        args: [...args, '--workers', String(workers)],
        env: { FERRY_LOG_LEVEL: 'info', ...(sched ? { NODE_CLUSTER_SCHED_POLICY: sched } : {}) },
        ready: workers === 1 ? '"msg":"listening"' : '"msg":"workers listening"',
      };
    },
  };
}

/**
 * Ferry mounted in another framework: `src/servers/<file>`, a Node server that imports Ferry's
 * packages (servers/ferry-packages.mjs) from the same snapshot as the CLI contenders, whose
 * @ferry/ferry copy it is given in $FERRY_DIR.
 */
export function ferryMountedContender({ id, label, file }) {
  let dir;
  const start = nodeServer(file);
  return {
    id,
    label,
    async prepare(ctx) {
      ({ dir } = await ferrySnapshot(ctx.workDir, ctx.node));
    },
    start(port, ctx) {
      const spec = start(port, ctx);
      return { ...spec, env: { ...spec.env, FERRY_DIR: dir } };
    },
  };
}
