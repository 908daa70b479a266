#!/usr/bin/env node
// The benchmark harness: every contender as its own process on 127.0.0.1, pinned to one core,
// driven by wrk pinned to another, interleaved over several rounds so that drift in the
// machine (thermal, noisy neighbours) is spread over all contenders rather than hitting one.
// `--scenario workers` instead runs ferry --workers 1 against --workers 2, unpinned.
//
//   node apps/bench/src/run.mjs --help
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { scenarios } from './contenders.mjs';
import { waitForQuiet } from './cpu.mjs';
import { headerSummary, measure } from './measure.mjs';
import { installCleanup, usePinning } from './processes.mjs';
import { formatRatio, formatRps, markdownTable, ratioOf, summarize } from './report.mjs';
import { ensureTool } from './tools.mjs';

const USAGE = `usage: node apps/bench/src/run.mjs [options]

  --scenario S        hello (default): every contender, servers pinned to one core, wrk to
                      the other; workers: ferry --workers 1 vs --workers 2, nothing pinned
  --rounds N          interleaved rounds (default 5; fewer is a smoke run, not a result)
  --duration S        seconds of measured load per contender per round (default 5)
  --warmup S          seconds of unmeasured load before each measurement (default 2)
  --connections C     wrk connections, all kept alive (default 50)
  --threads T         wrk threads (default 1; 2 for the workers scenario)
  --pipeline P        requests each wrk connection sends at once, HTTP/1.1 pipelining
                      (default 1; 16 for the workers scenario: see README)
  --only a,b          run only these contenders: ${Object.values(scenarios)
    .map((s) => `${s.contenders.map((c) => c.id).join(', ')} (${s.id})`)
    .join('; ')}
  --max-lost PCT      repeat a measurement when more than PCT% of the server's core went to
                      other processes or to VM steal, or wrk's core had under 3% idle
                      (so wrk may have been the bottleneck) (default 5; Linux only)
  --retries N         repeats allowed per measurement for that (default 2)
  --quiet-wait S      before each measurement, wait up to S seconds for both cores to be
                      idle, i.e. for other work on a shared machine to pause (default 120)
  --server-cpu N      core the servers are pinned to (default 1; hello only)
  --wrk-cpu N         core wrk is pinned to (default 0; hello only)
  -h, --help          this text`;

function options() {
  // `pnpm bench -- --rounds 3` hands the `--` on to us; it separates nothing here.
  const args = process.argv.slice(2);
  if (args[0] === '--') args.shift();
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string', default: 'hello' },
      rounds: { type: 'string', default: '5' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      threads: { type: 'string' },
      pipeline: { type: 'string' },
      only: { type: 'string' },
      'max-lost': { type: 'string', default: '5' },
      retries: { type: 'string', default: '2' },
      'quiet-wait': { type: 'string', default: '120' },
      'server-cpu': { type: 'string', default: '1' },
      'wrk-cpu': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name, min) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
    return n;
  };
  const benchmark = scenarios[values.scenario];
  if (!benchmark) throw new Error(`--scenario: unknown "${values.scenario}"; known: ${Object.keys(scenarios).join(', ')}`);
  values.threads ??= String(benchmark.threads);
  values.pipeline ??= String(benchmark.pipeline ?? 1);
  let contenders = benchmark.contenders;
  if (values.only) {
    const wanted = values.only
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const unknown = wanted.filter((id) => !contenders.some((c) => c.id === id));
    if (unknown.length) {
      throw new Error(`--only: unknown contender(s) ${unknown.join(', ')}; known: ${contenders.map((c) => c.id).join(', ')}`);
    }
    contenders = contenders.filter((c) => wanted.includes(c.id));
  }
  return {
    benchmark,
    contenders,
    rounds: int('rounds', 1),
    maxLost: int('max-lost', 0) / 100,
    retries: int('retries', 0),
    quietWait: int('quiet-wait', 0),
    serverCpu: int('server-cpu', 0),
    wrkCpu: int('wrk-cpu', 0),
    settings: {
      duration: int('duration', 1),
      warmup: int('warmup', 0),
      connections: int('connections', 1),
      threads: int('threads', 1),
      pipeline: int('pipeline', 1),
    },
  };
}

/** Round r runs the contenders rotated by r: A,B,C,D then B,C,D,A, and so on. */
function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Below this share of idle time on its core, wrk may have been the bottleneck. */
const WRK_MIN_IDLE = 0.03;

/** The commit measured, and whether the work tree differed from it (best effort). */
function gitState(cwd) {
  const git = (...args) => spawnSync('git', args, { cwd, encoding: 'utf8' });
  const head = git('rev-parse', 'HEAD');
  if (head.status !== 0) return undefined;
  return { commit: head.stdout.trim(), dirty: git('status', '--porcelain', '--', '../..').stdout.trim() !== '' };
}

const pct = (x) => `${(x * 100).toFixed(0)}%`;

function describeRun(result) {
  const notes = [];
  if (result.cpu?.wrkIdle !== undefined) {
    notes.push(`server core lost ${pct(result.cpu.lost)}`);
    // wrk with no idle time left may itself be the bottleneck, which would hide differences.
    if (result.cpu.wrkIdle < WRK_MIN_IDLE) notes.push(`wrk core idle only ${pct(result.cpu.wrkIdle)}`);
  } else if (result.cpu) {
    // Unpinned: the whole machine's time, split between the server (workers included) and wrk.
    const s = (x) => `${x.toFixed(1)}s`;
    notes.push(
      `server ${s(result.cpu.serverSeconds)} cpu, wrk ${s(result.cpu.wrkSeconds)}, idle ${pct(result.cpu.idle)}, lost ${pct(result.cpu.lost)}`,
    );
  }
  if (result.errors) notes.push(`⚠ ${result.errors}`);
  return `${formatRps(result.requestsPerSec).padStart(9)} req/s${notes.length ? `  (${notes.join(', ')})` : ''}`;
}

/**
 * Measures once the machine is quiet, and again while other work took more than `maxLost` of
 * the server's core (or wrk ran out of headroom): on a shared machine a burst elsewhere would
 * otherwise be recorded as one contender's slowness. The criterion is independent of the result, so this does not cherry-pick.
 * The last attempt is kept either way, marked `noisy`.
 */
async function measureQuietly(contender, options) {
  for (let attempt = 0; ; attempt++) {
    await waitForQuiet(options.quietCores, {
      maxWaitMs: options.quietWait * 1000,
      onWait: (busy) =>
        console.log(`  ${options.label}  machine busy (${pct(busy)} of a core): waiting up to ${options.quietWait}s for quiet…`),
    });
    const result = await measure(contender, options);
    // (Unpinned runs have no wrkIdle: every core is shared, so only `lost` applies.)
    if (!result.cpu || (result.cpu.lost <= options.maxLost && !(result.cpu.wrkIdle < WRK_MIN_IDLE))) return result;
    if (attempt >= options.retries) {
      result.noisy = true;
      return result;
    }
    console.log(`  ${options.label}  ${describeRun(result)}: discarded, retrying`);
  }
}

async function main() {
  const opts = options();
  const { benchmark, contenders, rounds, settings } = opts;
  const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));

  const wrk = ensureTool('wrk', 'wrk', 'it is the load generator');
  // Pinning needs two cores; on fewer, server and wrk would fight over one and the numbers
  // would measure the scheduler, so say so loudly rather than pretend.
  const pinned = benchmark.pinned && availableParallelism() >= 2 && opts.serverCpu !== opts.wrkCpu;
  if (pinned) usePinning(ensureTool('taskset', 'util-linux', 'it pins servers and wrk to separate cores'));
  else if (benchmark.pinned)
    console.warn('warning: fewer than 2 usable cores (or one core for both): running UNPINNED; results are not comparable.');
  const serverCpu = pinned ? opts.serverCpu : undefined;
  const wrkCpu = pinned ? opts.wrkCpu : undefined;
  const quietCores = pinned ? [opts.serverCpu, opts.wrkCpu] : Array.from({ length: availableParallelism() }, (_, i) => i);

  const workDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  installCleanup(() => rmSync(workDir, { recursive: true, force: true }));

  const pin = (cpu) => (pinned ? `core ${cpu}` : 'unpinned');
  console.log(`# ${benchmark.title}`);
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} ×${availableParallelism()}; ` +
      `servers on ${pin(serverCpu)}, wrk on ${pin(wrkCpu)}`,
  );
  console.log(
    `wrk -t${settings.threads} -c${settings.connections} -d${settings.duration}s` +
      `${settings.pipeline > 1 ? ` pipelining ${settings.pipeline} requests per connection` : ''} after a ${settings.warmup}s warm-up; ` +
      `${rounds} interleaved round(s)${rounds < 5 ? ' (fewer than 5: a smoke run, not a result)' : ''}\n`,
  );

  for (const contender of contenders) await contender.prepare?.(workDir);

  const samples = new Map(contenders.map((c) => [c.id, []]));
  const verified = new Set();
  const width = Math.max(...contenders.map((c) => c.id.length));
  for (let round = 0; round < rounds; round++) {
    console.log(`round ${round + 1}/${rounds}`);
    for (const contender of rotate(contenders, round)) {
      const result = await measureQuietly(contender, {
        benchmark,
        serverCpu,
        wrkCpu,
        quietCores,
        wrk,
        settings,
        workDir,
        maxLost: opts.maxLost,
        retries: opts.retries,
        quietWait: opts.quietWait,
        label: contender.id.padEnd(width),
        // Once per contender: what it actually sends, so header-size differences are visible.
        onVerified: (res) => {
          if (verified.has(contender.id)) return;
          verified.add(contender.id);
          console.log(`  ${contender.id.padEnd(width)}  verified: ${headerSummary(res)}`);
        },
      });
      samples.get(contender.id).push(result);
      console.log(`  ${contender.id.padEnd(width)}  ${describeRun(result)}`);
    }
  }

  const rows = summarize(contenders, samples, benchmark.baseline);
  const baseline = benchmark.contenders.find((c) => c.id === benchmark.baseline);
  const ferryVsFastify = ratioOf(rows, 'ferry', 'fastify');
  const twoVsOne = ratioOf(rows, 'ferry-w2', 'ferry-w1');
  const noneVsOne = ratioOf(rows, 'ferry-w2-none', 'ferry-w1');
  console.log(`\n## ${benchmark.title}, ${rounds} round${rounds === 1 ? '' : 's'}\n`);
  console.log(markdownTable(rows, benchmark.baselineLabel));
  if (!rows.some((row) => row.id === benchmark.baseline)) console.log(`\n(${baseline.id} did not run: no ratios to ${baseline.label})`);
  if (ferryVsFastify !== undefined) console.log(`\nferry / fastify: ${formatRatio(ferryVsFastify)}`);
  if (twoVsOne !== undefined) console.log(`\nferry --workers 2 / --workers 1: ${formatRatio(twoVsOne)}`);
  if (noneVsOne !== undefined)
    console.log(`ferry --workers 2 with NODE_CLUSTER_SCHED_POLICY=none / --workers 1: ${formatRatio(noneVsOne)}`);
  const withErrors = rows.filter((row) => row.errors.length);
  for (const row of withErrors) console.log(`⚠ ${row.id}: ${row.errors.join('; ')}`);
  if (rows.some((row) => row.noisy)) {
    console.log(
      `(N noisy): runs that lost more than ${pct(opts.maxLost)} of the server's core to other work, or left wrk's core ` +
        `under ${pct(WRK_MIN_IDLE)} idle, even after ${opts.retries} retries; rerun on a quieter machine.`,
    );
  }

  const resultsDir = join(benchDir, '.bench-results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${benchmark.id}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const json = {
    benchmark: benchmark.id,
    title: benchmark.title,
    date: new Date().toISOString(),
    git: gitState(benchDir),
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: availableParallelism(),
    pinned: pinned ? { servers: opts.serverCpu, wrk: opts.wrkCpu } : false,
    rounds,
    wrk: settings,
    ferryVsFastify,
    workers2VsWorkers1: twoVsOne,
    workers2SchedNoneVsWorkers1: noneVsOne,
    baseline: benchmark.baseline,
    contenders: rows.map(({ id, label, samples, median, min, max, ratio, p99Ms, cpuUsPerRequest, errors, lost, noisy }) => ({
      id,
      label,
      samples,
      median,
      min,
      max,
      [benchmark.baseline === 'node' ? 'ratioToNodeHttp' : 'ratioToBaseline']: ratio,
      p99Ms,
      cpuUsPerRequest,
      errors,
      lost,
      noisy,
    })),
  };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nresults: ${relative(process.cwd(), file)}`);
  return withErrors.length ? 1 : 0;
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
