#!/usr/bin/env node
// Profiles one contender under the benchmark's load: starts it with `node --cpu-prof`, pinned
// like in run.mjs, drives it with wrk, stops it, and prints where its CPU time went.
//
//   node apps/bench/src/profile.mjs [--contender ferry] [--duration 10] [--connections 50] [--top 30]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hello } from './contenders.mjs';
import { formatSummary, summarizeProfile } from './cpuprofile.mjs';
import { startContender, verifyResponse } from './measure.mjs';
import { installCleanup, stop, usePinning } from './processes.mjs';
import { ensureTool } from './tools.mjs';
import { runWrk } from './wrk.mjs';

const srcDir = dirname(fileURLToPath(import.meta.url));
const benchDir = dirname(srcDir);

async function main() {
  const { values } = parseArgs({
    options: {
      contender: { type: 'string', default: 'ferry' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      top: { type: 'string', default: '30' },
    },
  });
  const contender = hello.contenders.find((c) => c.id === values.contender);
  if (!contender) throw new Error(`unknown contender ${values.contender}; known: ${hello.contenders.map((c) => c.id).join(', ')}`);

  const wrk = ensureTool('wrk', 'wrk', 'it is the load generator');
  const pinned = availableParallelism() >= 2;
  if (pinned) usePinning(ensureTool('taskset', 'util-linux', 'it pins the server and wrk to separate cores'));
  const [serverCpu, wrkCpu] = pinned ? [1, 0] : [undefined, undefined];

  const workDir = mkdtempSync(join(tmpdir(), 'ferry-profile-'));
  installCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  await contender.prepare?.(workDir);

  const profileDir = join(workDir, 'profile');
  const nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', join(srcDir, 'profile-exit.mjs')];
  const { child, url } = await startContender(contender, { cpu: serverCpu, workDir, path: hello.path, nodeFlags });
  try {
    await verifyResponse(contender, url, hello.body);
    const load = { url, cpu: wrkCpu, threads: 1, connections: Number(values.connections) };
    await runWrk(wrk, { ...load, duration: Number(values.warmup) });
    const result = await runWrk(wrk, { ...load, duration: Number(values.duration) });
    const rps = Math.round(result.requestsPerSec).toLocaleString('en-US');
    console.log(`${contender.id} under the profiler: ${rps} req/s (slower than unprofiled)\n`);
  } finally {
    await stop(child, 10_000);
  }

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
