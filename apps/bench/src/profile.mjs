#!/usr/bin/env node
// Profiles one contender under a scenario's load: starts it with `node --cpu-prof`, pinned
// like in run.mjs (its upstream too, unprofiled), drives it as the scenario does, stops it,
// and prints where its CPU time went.
//
//   node apps/bench/src/profile.mjs [--scenario hello] [--case ID] [--contender ferry] [--duration 10] [--connections 50] [--top 30]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { choiceOptions, choose } from './choose.mjs';
import { formatSummary, summarizeProfile } from './cpuprofile.mjs';
import { nodeVersion } from './launchers/node.mjs';
import { startContender, stopProcesses } from './measure.mjs';
import { installCleanup, usePinning } from './processes.mjs';
import { ensureTool } from './tools.mjs';

const srcDir = dirname(fileURLToPath(import.meta.url));
const benchDir = dirname(srcDir);

async function main() {
  const { values } = parseArgs({
    options: {
      ...choiceOptions,
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string' },
      top: { type: 'string', default: '30' },
    },
  });
  const { scenario, kase, contender } = choose(values);

  const wrk = ensureTool('wrk', 'wrk', 'it is the load generator');
  const pinned = availableParallelism() >= 2;
  if (pinned) usePinning(ensureTool('taskset', 'util-linux', 'it pins the server and the load generator to separate cores'));
  const [serverCpu, wrkCpu] = pinned ? [1, 0] : [undefined, undefined];

  const workDir = mkdtempSync(join(tmpdir(), 'ferry-profile-'));
  installCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  const ctx = { workDir, node: process.execPath, nodeVersion: nodeVersion(process.execPath) };
  const outcome = await contender.prepare?.(ctx);
  if (outcome?.skip) throw new Error(outcome.skip);
  if (contender.start(0, { ...ctx, upstream: { port: 0 } }).command !== ctx.node)
    throw new Error(`${contender.id} is not a Node process: nothing to --cpu-prof`);

  const profileDir = join(workDir, 'profile');
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', join(srcDir, 'profile-exit.mjs')];
  const { server, processes } = await startContender(contender, { cpu: serverCpu, ctx, nodeFlags });
  try {
    await scenario.verify({ contender, server, kase, ctx });
    const settings = { threads: 1, connections: Number(values.connections ?? scenario.connections ?? 50), pipeline: 1 };
    const load = { wrk, server, kase, cpu: wrkCpu, settings };
    await scenario.drive({ ...load, duration: Number(values.warmup) });
    const result = await scenario.drive({ ...load, duration: Number(values.duration) });
    const rate = Math.round(result.requestsPerSec).toLocaleString('en-US');
    console.log(`${contender.id} under the profiler (${scenario.id} ${kase.id}): ${rate} ${scenario.unit} (slower than unprofiled)\n`);
  } finally {
    await stopProcesses(processes, 10_000);
  }
  const child = server.child;

  const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`${contender.id} wrote no profile:\n${child.output.trim()}`);
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));
  // Summarize before the snapshot is removed: its source maps name Ferry's TypeScript files.
  console.log(formatSummary(summarizeProfile(profile, [workDir, join(benchDir, 'src')]), Number(values.top)));

  const resultsDir = join(benchDir, '.bench-results');
  mkdirSync(resultsDir, { recursive: true });
  const kept = join(resultsDir, `${contender.id}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  renameSync(join(profileDir, file), kept);
  console.log(`\nprofile: ${relative(process.cwd(), kept)} (open in Chrome DevTools → Performance)`);
}

main().catch((error) => {
  console.error(`profile: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
