// Who is benchmarked, and how each one is started. Each contender is its own process;
// the harness adds the CPU pinning and the port.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BODY } from './servers/common.mjs';
import { ferryConfig } from './servers/ferry-config.mjs';
import { snapshotPackage } from './snapshot.mjs';

const require = createRequire(import.meta.url);
const srcDir = dirname(fileURLToPath(import.meta.url));
const serversDir = join(srcDir, 'servers');
const benchDir = dirname(srcDir);
const workspaceRoot = dirname(dirname(benchDir));

/**
 * The installed version of a dependency. Read from node_modules directly because not every
 * package exports its package.json (hono does not), so require.resolve cannot reach it.
 */
function versionOf(name) {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** A contender that is one of our small server files, given its port as argv[2]. */
function serverFile(file) {
  return (port) => ({ command: process.execPath, args: [join(serversDir, file), String(port)], env: {} });
}

/**
 * The real `ferry` CLI of the workspace's @ferry/ferry, as built by `pnpm run build`, run from
 * a snapshot of the build taken before the first round (see snapshot.mjs). With `workers`, it
 * runs `ferry run --workers N` (the workers scenario), and with `sched: 'none'` node:cluster's
 * other scheduling policy (NODE_CLUSTER_SCHED_POLICY); `id` and `label` then say so.
 */
function ferryContender({ workers, sched } = {}) {
  let cli;
  const suffix = `${workers === undefined ? '' : `-w${workers}`}${sched ? `-${sched}` : ''}`;
  const flags = workers === undefined ? '' : `, --workers ${workers}${sched ? `, NODE_CLUSTER_SCHED_POLICY=${sched}` : ''}`;
  return {
    id: `ferry${suffix}`,
    label: `ferry ${versionOf('@ferry/ferry')} (CLI${flags})`,
    async prepare(workDir) {
      const pkgDir = dirname(require.resolve('@ferry/ferry/package.json'));
      const { bin } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
      if (!existsSync(join(pkgDir, bin.ferry))) {
        throw new Error(`${join(pkgDir, bin.ferry)} does not exist: build first (\`npx -y pnpm@10.34.8 run build\`).`);
      }
      // A build running elsewhere may be half-way through its dist/: take the snapshot again
      // until the copied CLI loads.
      for (let attempt = 1; ; attempt++) {
        let problem;
        try {
          cli = join(snapshotPackage(pkgDir, workspaceRoot, join(workDir, `snapshot${suffix}-${attempt}`)), bin.ferry);
          const check = spawnSync(process.execPath, [cli, 'version'], { encoding: 'utf8', timeout: 15_000 });
          if (check.status === 0) return;
          problem = check.stderr || check.stdout || `exit ${check.status}`;
        } catch (error) {
          problem = error.message;
        }
        if (attempt === 5) throw new Error(`the built ferry CLI does not start:\n${problem}`);
        await sleep(2000);
      }
    },
    start(port, workDir) {
      const config = join(workDir, `ferry-${port}.json`);
      writeFileSync(config, JSON.stringify(ferryConfig(port)));
      if (workers === undefined) {
        // Log level warn: no access log and no start-up lines, only what is worth reading.
        return { command: process.execPath, args: [cli, 'run', '--config', config], env: { FERRY_LOG_LEVEL: 'warn' } };
      }
      // The port answers once the first worker listens: wait for the line saying all do. (At
      // level info the config, which has no `logs`, still logs nothing per request.)
      return {
        command: process.execPath,
        args: [cli, 'run', '--config', config, '--workers', String(workers)],
        env: { FERRY_LOG_LEVEL: 'info', ...(sched ? { NODE_CLUSTER_SCHED_POLICY: sched } : {}) },
        ready: workers === 1 ? '"msg":"listening"' : '"msg":"workers listening"',
      };
    },
  };
}

/** The node:http contender's id; every ratio is to its median. */
export const BASELINE = 'node';

/**
 * The hello-world benchmark: GET / answered with the 13-byte body, over keep-alive HTTP/1.1.
 * The order here is the order of round 1; later rounds rotate it. A contender may have a
 * `prepare(workDir)`, run once before the first round.
 */
export const hello = {
  id: 'hello',
  title: '13-byte "Hello, World!" over HTTP/1.1 keep-alive',
  path: '/',
  body: BODY,
  baseline: BASELINE,
  baselineLabel: 'node:http',
  /** Every server on one core, wrk on the other. */
  pinned: true,
  threads: 1,
  contenders: [
    { id: 'node', label: `node:http (${process.version})`, start: serverFile('node-http.mjs') },
    ferryContender(),
    { id: 'fastify', label: `fastify ${versionOf('fastify')}`, start: serverFile('fastify.mjs') },
    {
      id: 'hono',
      label: `hono ${versionOf('hono')} + @hono/node-server ${versionOf('@hono/node-server')}`,
      start: serverFile('hono.mjs'),
    },
    { id: 'express', label: `express ${versionOf('express')}`, start: serverFile('express.mjs') },
  ],
};

/**
 * The workers scenario: the same hello world and config, `ferry run --workers 1` against
 * `--workers 2` — with node:cluster's default scheduling on Linux (round-robin: the primary
 * accepts every connection and hands it to the next worker) and with `none` (the workers accept
 * from the shared socket themselves). Nothing is pinned: two workers need both cores, and wrk
 * shares them (the "load generator included" condition of the scaling goal), so wrk runs two threads.
 */
export const workers = {
  id: 'workers',
  title: '13-byte "Hello, World!" over HTTP/1.1 keep-alive, ferry --workers 1 vs --workers 2 (unpinned: wrk shares the two cores)',
  path: '/',
  body: BODY,
  baseline: 'ferry-w1',
  baselineLabel: 'ferry --workers 1',
  pinned: false,
  threads: 2,
  /**
   * HTTP/1.1 pipelining, 16 deep (as TechEmpower's plaintext test): wrk then spends far less CPU
   * per request than the servers do, so what a second worker adds is not eaten by the load
   * generator sharing the two cores. `--pipeline 1` measures plain keep-alive (see README).
   */
  pipeline: 16,
  contenders: [ferryContender({ workers: 1 }), ferryContender({ workers: 2 }), ferryContender({ workers: 2, sched: 'none' })],
};

/** The scenarios run.mjs knows, by `--scenario`. */
export const scenarios = { hello, workers };
