// How much of the server's core the server actually had. The machine this runs on may be
// shared (other processes, or a VM whose vCPU the host takes away: "steal"), and pinning
// keeps wrk off the server's core but not everyone else. Linux /proc only; elsewhere every
// function returns undefined and the harness measures without this check.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Clock ticks of one core from /proc/stat: busy (incl. irq/softirq), idle, steal. */
function coreTicks(text, cpu) {
  const line = text.split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
}

/** utime + stime of a process, all its threads included. */
function processTicks(pid) {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function sample(serverPid, serverCpu, wrkCpu) {
  const stat = read('/proc/stat');
  if (!stat) return undefined;
  const server = coreTicks(stat, serverCpu);
  const wrk = coreTicks(stat, wrkCpu);
  const own = processTicks(serverPid);
  return server && wrk && own !== undefined ? { server, wrk, own } : undefined;
}

/**
 * Between two samples: `serverSeconds`, the CPU time the server used; `lost`, the share of the server core that went to anything but the
 * server (other processes plus steal), and `wrkIdle`, the share of wrk's core left idle
 * (near 0 means wrk, not the server, may have been the bottleneck). The server's own stime
 * includes the softirq time of the loopback traffic it handles, so that is not counted as lost.
 */
export function usage(before, after) {
  if (!before || !after) return undefined;
  const d = (a, b) => ({ busy: b.busy - a.busy, idle: b.idle - a.idle, steal: b.steal - a.steal });
  const server = d(before.server, after.server);
  const wrk = d(before.wrk, after.wrk);
  const total = server.busy + server.idle + server.steal;
  const wrkTotal = wrk.busy + wrk.idle + wrk.steal;
  if (total <= 0 || wrkTotal <= 0) return undefined;
  const others = Math.max(0, server.busy - (after.own - before.own));
  return {
    // /proc reports in USER_HZ, which is 100 on every Linux architecture Node runs on.
    serverSeconds: (after.own - before.own) / 100,
    lost: (others + server.steal) / total,
    steal: server.steal / total,
    wrkIdle: wrk.idle / wrkTotal,
  };
}

/**
 * Waits until, over one `windowMs`, neither core is more than `threshold` busy — i.e. until
 * other work on a shared machine pauses — or `maxWaitMs` passes. Called between measurements,
 * when none of ours is running. Returns how long it waited.
 */
export async function waitForQuiet(cores, { threshold = 0.1, windowMs = 1000, maxWaitMs = 120_000, onWait } = {}) {
  const started = Date.now();
  let warned = false;
  for (;;) {
    const before = read('/proc/stat');
    await sleep(windowMs);
    const after = read('/proc/stat');
    if (!before || !after) return 0;
    const busiest = Math.max(
      ...cores.map((cpu) => {
        const a = coreTicks(before, cpu);
        const b = coreTicks(after, cpu);
        const total = b.busy + b.idle + b.steal - (a.busy + a.idle + a.steal);
        return total > 0 ? (b.busy + b.steal - a.busy - a.steal) / total : 0;
      }),
    );
    const waited = Date.now() - started;
    if (busiest <= threshold || waited >= maxWaitMs) return waited;
    if (!warned) onWait?.(busiest);
    warned = true;
  }
}
