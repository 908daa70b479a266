// Drives one contender with wrk and reads the numbers back from its text report.
import { fileURLToPath } from 'node:url';
import { describeExit, spawnPinned } from './processes.mjs';

const PIPELINE_SCRIPT = fileURLToPath(new URL('./pipeline.lua', import.meta.url));

/** A wrk script whose requests are POSTs of N bytes: `{ script: POST_SCRIPT, scriptArgs: [N] }`. */
export const POST_SCRIPT = fileURLToPath(new URL('./post.lua', import.meta.url));

/**
 * Runs `wrk -t<threads> -c<connections> -d<duration>s --latency URL` on `cpu` and returns
 * the parsed report. wrk speaks HTTP/1.1 and keeps its connections alive, which is the
 * scenario under test. `headers` are added to every request (`-H`); `script` shapes them.
 */
export async function runWrk(wrk, { url, cpu, threads, connections, duration, pipeline = 1, headers = [], script, scriptArgs = [] }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${duration}s`, '--latency'];
  for (const header of headers) args.push('-H', header);
  // Pipelined: each connection writes `pipeline` requests at once (pipeline.lua).
  if (pipeline > 1) args.push('-s', PIPELINE_SCRIPT, url, '--', String(pipeline));
  else if (script) args.push('-s', script, url, '--', ...scriptArgs.map(String));
  else args.push(url);
  const child = spawnPinned(cpu, wrk, args);
  const exit = await child.exited;
  if (exit.code !== 0) throw new Error(`wrk failed (${describeExit(exit)}):\n${child.output.trim()}`);
  return parseWrk(child.output);
}

const UNIT_TO_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function latencyMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  return match ? Number(match[1]) * UNIT_TO_MS[match[2]] : undefined;
}

/** Parses wrk 4's report. Throws if the one number we cannot do without is missing. */
export function parseWrk(output) {
  const number = (re) => {
    const match = re.exec(output);
    return match ? Number(match[1]) : undefined;
  };
  const requestsPerSec = number(/^Requests\/sec:\s+([\d.]+)/m);
  if (requestsPerSec === undefined) throw new Error(`no "Requests/sec:" in wrk's output:\n${output.trim()}`);

  // Both lines appear only when non-zero.
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket
    ? { connect: +socket[1], read: +socket[2], write: +socket[3], timeout: +socket[4] }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = number(/Non-2xx or 3xx responses:\s+(\d+)/) ?? 0;

  const latency = {};
  for (const [, pct, value] of output.matchAll(/^\s+(50|75|90|99)%\s+(\S+)/gm)) latency[`p${pct}`] = latencyMs(value);

  return {
    requestsPerSec,
    requests: number(/(\d+) requests in/),
    socketErrors,
    non2xx,
    latencyMs: latency,
    raw: output,
  };
}

/** A one-line description of what went wrong in a run, or '' when nothing did. */
export function describeErrors({ socketErrors, non2xx }) {
  const parts = Object.entries(socketErrors)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind} error(s)`);
  if (non2xx > 0) parts.push(`${non2xx} non-2xx/3xx response(s)`);
  return parts.join(', ');
}

/**
 * A scenario's `drive` for wrk: loads `server` at the case's `path` (with its `headers`, or its
 * wrk `script`) for `duration` seconds. wrk times a pipelined batch as one request, so its
 * latency figures are dropped then.
 */
export async function driveWrk({ wrk, server, kase, cpu, settings, duration }) {
  const { threads, connections, pipeline } = settings;
  if (pipeline > 1 && kase.script) throw new Error(`--pipeline ${pipeline} cannot be combined with the scripted case ${kase.id}`);
  const result = await runWrk(wrk, {
    url: `${server.url}${kase.path}`,
    cpu,
    threads,
    connections,
    duration,
    pipeline,
    headers: kase.headers,
    script: kase.script,
    scriptArgs: kase.scriptArgs,
  });
  if (pipeline > 1) result.latencyMs = {};
  result.errors = describeErrors(result);
  return result;
}
