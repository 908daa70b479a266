#!/usr/bin/env node
// The benchmark harness: every contender as its own process on 127.0.0.1, pinned to one core,
// driven by a load generator pinned to another, interleaved over several rounds so that drift
// in the machine (thermal, noisy neighbours) is spread over all contenders rather than hitting
// one. Scenarios (--scenario): hello, workers, proxy, ws, gzip; see scenarios/ and the README.
//
//   node apps/bench/src/run.mjs --help
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { benchDir, nodeVersion } from './launchers/node.mjs';
import { options } from './options.mjs';
import { installCleanup, usePinning } from './processes.mjs';
import { ceilingOf, formatRatio, markdownTable, ratioOf, roundRatiosOf, summarize } from './report.mjs';
import { saveResults } from './results.mjs';
import { pct, runCase, WRK_MIN_IDLE } from './rounds.mjs';
import { ensureTool } from './tools.mjs';

/** Pins servers and load generator to separate cores when the scenario wants it and the machine allows. */
function setUpPinning(opts) {
  // Pinning needs two cores; on fewer, server and load generator would fight over one and the
  // numbers would measure the scheduler, so say so loudly rather than pretend.
  const pinned = opts.benchmark.pinned && availableParallelism() >= 2 && opts.serverCpu !== opts.wrkCpu;
  if (pinned) usePinning(ensureTool('taskset', 'util-linux', 'it pins servers and the load generator to separate cores'));
  else if (opts.benchmark.pinned)
    console.warn('warning: fewer than 2 usable cores (or one core for both): running UNPINNED; results are not comparable.');
  return {
    pinned,
    serverCpu: pinned ? opts.serverCpu : undefined,
    wrkCpu: pinned ? opts.wrkCpu : undefined,
    quietCores: pinned ? [opts.serverCpu, opts.wrkCpu] : Array.from({ length: availableParallelism() }, (_, i) => i),
  };
}

function printHeader({ benchmark, settings, rounds, cases }, { pinned, serverCpu, wrkCpu }, ctx) {
  const pin = (cpu) => (pinned ? `core ${cpu}` : 'unpinned');
  const load = benchmark.id === 'ws' ? 'ws load generator' : 'wrk';
  console.log(`# ${benchmark.title}`);
  console.log(
    `harness node ${process.version}, servers on node ${ctx.nodeVersion}${ctx.node === process.execPath ? '' : ` (${ctx.node})`}; ` +
      `${cpus()[0]?.model ?? 'unknown CPU'} ×${availableParallelism()}; servers on ${pin(serverCpu)}, ${load} on ${pin(wrkCpu)}`,
  );
  const shape = benchmark.id === 'ws' ? `${settings.connections} connections` : `wrk -t${settings.threads} -c${settings.connections}`;
  console.log(
    `${shape}, ${settings.duration}s` +
      `${settings.pipeline > 1 ? ` pipelining ${settings.pipeline} requests per connection` : ''} after a ${settings.warmup}s warm-up; ` +
      `${rounds} interleaved round(s)${rounds < 5 ? ' (fewer than 5: a smoke run, not a result)' : ''}; ` +
      `case(s): ${cases.map((k) => k.id).join(', ')}\n`,
  );
}

/**
 * Runs each contender's `prepare` once, and settles its label (which may depend on what
 * prepare found, or on the servers' Node). A peer that cannot run here is skipped, saying why.
 */
async function prepareContenders(contenders, ctx) {
  const ready = [];
  const skipped = new Map();
  for (const contender of contenders) {
    const outcome = await contender.prepare?.(ctx);
    if (outcome?.skip) {
      skipped.set(contender.id, outcome.skip);
      console.log(`skipped ${contender.id}: ${outcome.skip}`);
      continue;
    }
    ready.push({ ...contender, label: typeof contender.label === 'function' ? contender.label(ctx) : contender.label });
  }
  return { ready, skipped };
}

/** What a sub-case may set for itself instead of its scenario: its reference row and its table's columns. */
const CASE_OWN = ['baseline', 'baselineLabel', 'factColumns', 'ownCpuTitle'];

/** The scenario as `kase` sees it: with the sub-case's own reference and columns, when it has them. */
function caseView(benchmark, kase) {
  const own = CASE_OWN.filter((key) => kase[key] !== undefined).map((key) => [key, kase[key]]);
  return own.length ? { ...benchmark, ...Object.fromEntries(own) } : benchmark;
}

/** The contenders `kase` runs: those it lists (`contenders`, by id), or all of them. */
const contendersOf = (kase, contenders) => (kase.contenders ? contenders.filter((c) => kase.contenders.includes(c.id)) : contenders);

/** Prints one sub-case's table and the scenario's ratios; returns what the JSON keeps. */
function reportCase(kase, contenders, { samples, refused }, { benchmark: scenario, rounds, maxLost, retries }) {
  const benchmark = caseView(scenario, kase);
  const rows = summarize(contenders, samples, benchmark.baseline);
  const heading = benchmark.cases.length > 1 ? `${benchmark.title}: ${kase.title} (${kase.id})` : benchmark.title;
  console.log(`\n## ${heading}, ${rounds} round${rounds === 1 ? '' : 's'}\n`);
  console.log(markdownTable(rows, benchmark));
  if (!rows.some((row) => row.id === benchmark.baseline)) console.log(`\n(${benchmark.baseline} did not run: no ratios to it)`);
  const ratios = {};
  const roundRatios = {};
  console.log('');
  for (const [of, to, name] of benchmark.ratios ?? []) {
    const ratio = ratioOf(rows, of, to);
    if (ratio === undefined) continue;
    ratios[name] = ratio;
    const ceiling = ceilingOf(rows, of, to);
    const bound = ceiling
      ? ` (at most ${formatRatio(ceiling.ratio)} with no user-space time in ${of}: ${to}'s ${ceiling.of.toFixed(1)} µs over ${ceiling.floor.toFixed(1)})`
      : '';
    const byRound = rounds > 1 ? roundRatiosOf(rows, of, to) : undefined;
    if (byRound) roundRatios[name] = byRound;
    const perRound = byRound
      ? `; round by round ${formatRatio(byRound.median)} (${formatRatio(byRound.min)}–${formatRatio(byRound.max)})`
      : '';
    console.log(`${name}: ${formatRatio(ratio)}${bound}${perRound}`);
  }
  for (const row of rows.filter((r) => r.errors.length)) console.log(`⚠ ${row.id}: ${row.errors.join('; ')}`);
  // Errors on the reference row itself (sse-fanout on a slow machine: every row, the hand-written
  // one included, misses deliveries) say the load is beyond the machine, not only beyond the others.
  if (rows.find((row) => row.id === benchmark.baseline)?.errors.length) {
    console.log(
      `⚠ the reference row (${benchmark.baselineLabel ?? benchmark.baseline}) has errors as well: the load may be beyond this machine, and this run's latencies judge nothing`,
    );
  }
  for (const [id, why] of refused) console.log(`REFUSED ${id}: ${why}`);
  if (rows.some((row) => row.noisy)) {
    console.log(
      `(N noisy): runs that lost more than ${pct(maxLost)} of the server's core to other work, or left the load generator's core ` +
        `under ${pct(WRK_MIN_IDLE)} idle, even after ${retries} retries; rerun on a quieter machine.`,
    );
  }
  return { kase, rows, refused, ratios, roundRatios };
}

async function main() {
  const opts = options();
  const wrk = ensureTool('wrk', 'wrk', 'it is the load generator');
  const pinning = setUpPinning(opts);
  const workDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  installCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  const ctx = { workDir, node: opts.node, nodeVersion: nodeVersion(opts.node) };
  printHeader(opts, pinning, ctx);

  const { ready, skipped } = await prepareContenders(opts.contenders, ctx);
  const cases = [];
  for (const kase of opts.cases) {
    const here = contendersOf(kase, ready);
    if (!here.length) {
      console.log(`\n### ${kase.id}: none of its contenders (${kase.contenders.join(', ')}) was chosen, skipped`);
      continue;
    }
    if (opts.cases.length > 1) console.log(`\n### ${kase.id}: ${kase.title}`);
    const outcome = await runCase(kase, here, { ...opts, ...pinning, scenario: opts.benchmark, wrk, ctx });
    cases.push(reportCase(kase, here, outcome, opts));
  }
  const file = saveResults(benchDir, { ...opts, ...pinning, ...ctx, cases, skipped });
  console.log(`\nresults: ${relative(process.cwd(), file)}`);
  const failed = cases.some(({ rows, refused }) => refused.size || rows.some((row) => row.errors.length));
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
