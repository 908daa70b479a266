// The harness's command line: every option, its default, and the scenarios it can run.
import { parseArgs } from 'node:util';
import { scenarios } from './scenarios/index.mjs';

const list = (items) => items.map((item) => item.id).join(', ');

const SCENARIOS = Object.values(scenarios)
  .map(
    (s) =>
      `  ${s.id.padEnd(9)} ${s.summary}\n            contenders: ${list(s.contenders)}${s.cases.length > 1 ? `\n            cases: ${list(s.cases)}` : ''}`,
  )
  .join('\n');

const USAGE = `usage: node apps/bench/src/run.mjs [options]

scenarios (--scenario; apps/bench/README.md explains each and its table):
${SCENARIOS}

options:
  --scenario S        which of the above (default hello)
  --case a,b          run only these sub-cases of the scenario (default all)
  --only a,b          run only these contenders
  --rounds N          interleaved rounds (default 5; fewer is a smoke run, not a result)
  --duration S        seconds of measured load per contender per round (default 5; 30 for sse-fanout)
  --warmup S          seconds of unmeasured load before each measurement (default 2; 0 for sse-fanout)
  --connections C     connections, all kept alive (default 50; 16 for ws; subscribers, 10,000, for sse-fanout)
  --threads T         wrk threads (default 1; 2 for the workers scenario)
  --pipeline P        requests each wrk connection sends at once, HTTP/1.1 pipelining
                      (default 1; 16 for the workers scenario: see README)
  --node PATH         the Node binary the servers run on (default: the one running this);
                      the harness, wrk and the ws load generator are not affected
  --max-lost PCT      repeat a measurement when more than PCT% of the server's core went to
                      other processes or to VM steal, or the load generator's core had under
                      3% idle (so it may have been the bottleneck) (default 5; Linux only)
  --retries N         repeats allowed per measurement for that (default 2)
  --quiet-wait S      before each measurement, wait up to S seconds for both cores to be
                      idle, i.e. for other work on a shared machine to pause (default 120)
  --server-cpu N      core the servers are pinned to (default 1; pinned scenarios)
  --wrk-cpu N         core the load generator is pinned to (default 0; pinned scenarios)
  -h, --help          this text`;

const OPTIONS = {
  scenario: { type: 'string', default: 'hello' },
  case: { type: 'string' },
  only: { type: 'string' },
  rounds: { type: 'string', default: '5' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  threads: { type: 'string' },
  pipeline: { type: 'string' },
  node: { type: 'string', default: process.execPath },
  'max-lost': { type: 'string', default: '5' },
  retries: { type: 'string', default: '2' },
  'quiet-wait': { type: 'string', default: '120' },
  'server-cpu': { type: 'string', default: '1' },
  'wrk-cpu': { type: 'string', default: '0' },
  help: { type: 'boolean', short: 'h' },
};

/** The items of `all` whose ids `csv` lists (all of them without it); an unknown id is an error. */
function pick(all, csv, option) {
  if (!csv) return all;
  const wanted = csv
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const unknown = wanted.filter((id) => !all.some((item) => item.id.toLowerCase() === id));
  if (unknown.length) throw new Error(`--${option}: unknown ${unknown.join(', ')}; known: ${list(all)}`);
  return all.filter((item) => wanted.includes(item.id.toLowerCase()));
}

export function options() {
  // `pnpm bench -- --rounds 3` hands the `--` on to us; it separates nothing here.
  const args = process.argv.slice(2);
  if (args[0] === '--') args.shift();
  const { values } = parseArgs({ args, options: OPTIONS });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name, min, fallback) => {
    const raw = values[name] ?? String(fallback);
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${raw}`);
    return n;
  };
  const benchmark = scenarios[values.scenario];
  if (!benchmark) throw new Error(`--scenario: unknown "${values.scenario}"; known: ${Object.keys(scenarios).join(', ')}`);
  return {
    benchmark,
    contenders: pick(benchmark.contenders, values.only, 'only'),
    cases: pick(benchmark.cases, values.case, 'case'),
    node: values.node,
    rounds: int('rounds', 1),
    maxLost: int('max-lost', 0) / 100,
    retries: int('retries', 0),
    quietWait: int('quiet-wait', 0),
    serverCpu: int('server-cpu', 0),
    wrkCpu: int('wrk-cpu', 0),
    settings: {
      duration: int('duration', 1, benchmark.duration ?? 5),
      warmup: int('warmup', 0, benchmark.warmup ?? 2),
      connections: int('connections', 1, benchmark.connections ?? 50),
      threads: int('threads', 1, benchmark.threads ?? 1),
      pipeline: int('pipeline', 1, benchmark.pipeline ?? 1),
    },
  };
}
