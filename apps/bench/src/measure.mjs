// One measurement of one contender: start its processes, check its answer, warm it up, load
// it, stop it. What "check" and "load" mean is the scenario's (its `verify` and `drive`).
import { machineUsage, sample, sampleMachine, usage } from './cpu.mjs';
import { freePort, spawnPinned, stop, waitForOutput, waitForPort } from './processes.mjs';

/** Starts one process from a `start(port, ctx)` spec on a fresh port, pinned to `cpu`; resolves once it accepts connections. */
async function startProcess(name, start, { cpu, ctx, nodeFlags = [], startTimeoutMs }) {
  const port = await freePort();
  const { command, args, env, ready } = start(port, ctx);
  const child = spawnPinned(cpu, command, [...nodeFlags, ...args], {
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  try {
    await waitForPort(port, child, name, startTimeoutMs);
    if (ready) await waitForOutput(child, ready, name);
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { name, child, port, url: `http://127.0.0.1:${port}` };
}

/**
 * Starts the contender, all pinned to `cpu`: first its `upstream` when it has one (a proxy's
 * backend, given to it as ctx.upstream), then itself. `nodeFlags` go to the contender only, and
 * `startTimeoutMs` (for one slowed down by a tool) bounds how long it may take to listen.
 * Returns `{ server, processes }`: the process to load, and every one to account and stop.
 */
export async function startContender(contender, { cpu, ctx, nodeFlags, startTimeoutMs }) {
  const processes = [];
  try {
    if (contender.upstream) processes.push(await startProcess(`${contender.id}'s upstream`, contender.upstream, { cpu, ctx }));
    const upstream = processes[0] && { port: processes[0].port };
    processes.push(await startProcess(contender.id, contender.start, { cpu, ctx: { ...ctx, upstream }, nodeFlags, startTimeoutMs }));
    return { server: processes.at(-1), processes };
  } catch (error) {
    await stopProcesses(processes);
    throw error;
  }
}

export async function stopProcesses(processes, graceMs) {
  await Promise.all(processes.map(({ child }) => stop(child, graceMs)));
}

/**
 * A full measurement; the contender is stopped whatever happens. `scenario.verify` throws when
 * the contender answers wrongly, so a fast wrong answer never shows up as a fast result.
 */
export async function measure(contender, { scenario, kase, serverCpu, wrkCpu, wrk, settings, ctx, onVerified }) {
  const { server, processes } = await startContender(contender, { cpu: serverCpu, ctx });
  try {
    const verdict = await scenario.verify({ contender, server, kase, ctx });
    onVerified?.(verdict);
    const load = { wrk, server, kase, cpu: wrkCpu, settings };
    // Warm-up lets V8 optimize the hot path before anything is counted; its numbers are discarded.
    if (settings.warmup > 0) await scenario.drive({ ...load, duration: settings.warmup });
    const pids = processes.map(({ child }) => child.pid);
    // Pinned: the server's core and the load generator's; unpinned (serverCpu undefined): the whole machine.
    const take = serverCpu === undefined ? () => sampleMachine(pids[0]) : () => sample(pids, serverCpu, wrkCpu);
    const before = take();
    const result = await scenario.drive({ ...load, duration: settings.duration });
    result.cpu = (serverCpu === undefined ? machineUsage : usage)(before, take());
    addCpuPerOperation(result);
    // What the check found, and what the load itself measured beside the rate (sse-fanout's memory).
    result.facts = result.memory ? { ...verdict.facts, ...result.memory } : verdict.facts;
    for (const { name, child } of processes) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} died under load:\n${child.output.trim()}`);
    }
    return result;
  } finally {
    await stopProcesses(processes);
  }
}

/**
 * CPU time per request (or message): unlike the rate, it does not move when the server merely
 * waits. With an upstream, also the contender's own share (the last process's). Pinned, also
 * the part of each in the kernel (stime): what no user-space change can take away.
 */
function addCpuPerOperation(result) {
  if (!result.cpu || !result.requests) return;
  const perRequest = (seconds) => (seconds * 1e6) / result.requests;
  result.cpuUsPerRequest = perRequest(result.cpu.serverSeconds);
  const each = result.cpu.eachSeconds;
  const system = result.cpu.eachSystemSeconds;
  if (system) result.kernelUsPerRequest = perRequest(system.reduce((a, b) => a + b, 0));
  if (each && each.length > 1) {
    result.ownCpuUsPerRequest = perRequest(each.at(-1));
    result.ownKernelUsPerRequest = perRequest(system.at(-1));
  }
}
