// A run's results as JSON under apps/bench/.bench-results/ (ignored by git), one file per run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';

/** The commit measured, and whether the work tree differed from it (best effort). */
function gitState(cwd) {
  const git = (...args) => spawnSync('git', args, { cwd, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return undefined;
  return { commit: head.stdout.trim(), dirty: git('status', '--porcelain', '--', '../..').stdout.trim() !== '' };
}

const contenderJson = (row) => ({
  id: row.id,
  label: row.label,
  samples: row.samples,
  median: row.median,
  min: row.min,
  max: row.max,
  ratioToBaseline: row.ratio,
  p99Ms: row.p99Ms,
  cpuUsPerRequest: row.cpuUsPerRequest,
  ownCpuUsPerRequest: row.ownCpuUsPerRequest,
  kernelUsPerRequest: row.kernelUsPerRequest,
  ownKernelUsPerRequest: row.ownKernelUsPerRequest,
  loadGeneratorIdle: row.loadGeneratorIdle,
  facts: row.facts,
  errors: row.errors,
  lost: row.lost,
  noisy: row.noisy,
});

/**
 * Writes the run: machine, settings, and per sub-case each contender's samples, median, spread,
 * ratio to the baseline, p99, CPU per request (a message, in the ws scenario), what its check
 * found (`facts`), the refused contenders with why, and the scenario's named ratios (of medians,
 * and round by round).
 */
export function saveResults(benchDir, run) {
  const { benchmark, cases, settings, rounds, pinned, node, nodeVersion, skipped } = run;
  const resultsDir = join(benchDir, '.bench-results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${benchmark.id}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const json = {
    benchmark: benchmark.id,
    title: benchmark.title,
    unit: benchmark.unit,
    date: new Date().toISOString(),
    git: gitState(benchDir),
    node: process.version,
    serverNode: { path: node, version: nodeVersion },
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    pinned,
    rounds,
    settings,
    baseline: benchmark.baseline,
    skipped: Object.fromEntries(skipped),
    cases: cases.map(({ kase, rows, refused, ratios, roundRatios }) => ({
      id: kase.id,
      title: kase.title,
      // A sub-case may have its own reference row (the interop scenario's do).
      baseline: kase.baseline ?? benchmark.baseline,
      contenders: rows.map(contenderJson),
      refused: Object.fromEntries(refused),
      ratios,
      roundRatios,
    })),
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  return file;
}
