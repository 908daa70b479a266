#!/usr/bin/env node
// Counts the instructions one Node contender's main thread executes per request, under valgrind's
// callgrind: the same scenario, sub-case and contender as run.mjs, started twice, once answering
// --base requests and once --base + --requests, so that start-up and warm-up cancel out. Unlike
// req/s and CPU time, the count hardly moves with what else the machine runs: a change worth 2 %
// shows here when the timed runs spread 15 %. It counts user space only (no syscalls, no kernel),
// and an instruction is not a nanosecond: confirm a gain with run.mjs. A case driven by post.lua
// (proxy post-64k) is sent as the same POSTs.
//
//   node apps/bench/src/instructions.mjs [--scenario hello] [--case ID] [--contender ferry] [--requests 20000] [--base 2000] [--node PATH]
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { choiceOptions, choose } from './choose.mjs';
import { nodeVersion } from './launchers/node.mjs';
import { startContender, stopProcesses } from './measure.mjs';
import { POST_SCRIPT } from './wrk.mjs';
import { installCleanup } from './processes.mjs';

/** Keep-alive connections the requests are spread over; few, as valgrind runs one thread at a time. */
const CONNECTIONS = 8;

/** The body post.lua sends: its pattern repeated to `size` bytes. */
function postBody(size) {
  const pattern = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_';
  return Buffer.from(pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size), 'latin1');
}

/** One request: a GET, or with `body` a POST of it as post.lua makes them. */
function send(url, agent, body) {
  return new Promise((resolve, reject) => {
    if (!body) return get(url, { agent }, resolve).on('error', reject);
    const headers = { 'content-type': 'application/octet-stream', 'content-length': body.length };
    request(url, { agent, method: 'POST', headers }, resolve).on('error', reject).end(body);
  });
}

/** `count` requests to `url` over CONNECTIONS keep-alive connections, each answered 200 and read whole. */
async function requests(url, count, body) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      const res = await send(url, agent, body);
      res.resume();
      await once(res, 'end');
      if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  } finally {
    agent.destroy();
  }
}

/** The main thread's instruction total from callgrind's per-thread files in `dir` (thread 1 is main). */
function mainThreadInstructions(dir) {
  const file = readdirSync(dir).find((name) => name.endsWith('-01'));
  if (!file) throw new Error(`callgrind wrote no per-thread file in ${dir}: ${readdirSync(dir).join(', ')}`);
  const totals = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
  if (!totals) throw new Error(`no instruction total in ${file}`);
  return Number(totals[1]);
}

/** Starts the contender under callgrind, answers `count` requests, stops it; its main thread's instructions. */
async function instructionsFor(contender, kase, count, ctx) {
  const dir = mkdtempSync(join(ctx.workDir, 'callgrind-'));
  const valgrind = [
    '--tool=callgrind',
    '--separate-threads=yes',
    // V8 writes and rewrites machine code: valgrind must notice code changed in place.
    '--smc-check=all-non-file',
    `--callgrind-out-file=${join(dir, 'out')}`,
  ];
  const underValgrind = {
    ...contender,
    start: (port, c) => {
      const spec = contender.start(port, c);
      return { ...spec, command: 'valgrind', args: [...valgrind, spec.command, ...spec.args] };
    },
  };
  // Ten to fifty times slower under valgrind: start-up may take a minute.
  const { server, processes } = await startContender(underValgrind, { ctx, startTimeoutMs: 180_000 });
  try {
    await requests(`${server.url}${kase.path}`, count, kase.script === POST_SCRIPT ? postBody(kase.scriptArgs[0]) : undefined);
  } finally {
    // SIGTERM: Node exits, and callgrind writes its files as it does.
    await stopProcesses(processes, 120_000);
  }
  return mainThreadInstructions(dir);
}

async function main() {
  const { values } = parseArgs({
    options: {
      ...choiceOptions,
      requests: { type: 'string', default: '20000' },
      base: { type: 'string', default: '2000' },
      node: { type: 'string', default: process.execPath },
    },
  });
  const { scenario, kase, contender } = choose(values);
  if (kase.script && kase.script !== POST_SCRIPT)
    throw new Error(`${kase.id} is a scripted case (wrk with a Lua script): only GET cases and post.lua's POSTs are counted`);
  const [count, base] = [Number(values.requests), Number(values.base)];
  if (!(count > 0 && base >= 0)) throw new Error('--requests must be above 0 and --base 0 or more');
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is missing: apt-get install valgrind');

  const workDir = mkdtempSync(join(tmpdir(), 'ferry-instructions-'));
  installCleanup(() => rmSync(workDir, { recursive: true, force: true }));
  const ctx = { workDir, node: values.node, nodeVersion: nodeVersion(values.node) };
  const outcome = await contender.prepare?.(ctx);
  if (outcome?.skip) throw new Error(outcome.skip);
  if (contender.start(0, { ...ctx, upstream: { port: 0 } }).command !== ctx.node) throw new Error(`${contender.id} is not a Node process`);

  const before = await instructionsFor(contender, kase, base, ctx);
  const after = await instructionsFor(contender, kase, base + count, ctx);
  const perRequest = Math.round((after - before) / count);
  console.log(
    `${contender.id} (${scenario.id} ${kase.id}): ${perRequest.toLocaleString('en-US')} instructions a request on the main thread`,
  );
  console.log(`  (${before.toLocaleString('en-US')} after ${base} requests, ${after.toLocaleString('en-US')} after ${base + count})`);
}

main().catch((error) => {
  console.error(`instructions: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
