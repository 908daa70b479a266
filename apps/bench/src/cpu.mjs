// How much of the server's core the server actually had. The machine this runs on may be
// shared (other processes, or a VM whose vCPU the host takes away: "steal"), and pinning
// keeps wrk off the server's core but not everyone else. Linux /proc only; elsewhere every
// function returns undefined and the harness measures without this check.
import { readdirSync, readFileSync } from 'node:fs';
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

/** The fields of /proc/PID/stat after the command name, which may contain spaces: [0] is state, [1] ppid. */
function statFields(pid) {
  const text = read(`/proc/${pid}/stat`);
  return text ? text.slice(text.lastIndexOf(')') + 2).split(' ') : undefined;
}

/** utime + stime of a process, all its threads included. */
function processTicks(pid) {
  const fields = statFields(pid);
  return fields ? Number(fields[11]) + Number(fields[12]) : undefined;
}

/** stime alone: the time a process spent in the kernel (its syscalls, and the loopback traffic they carry). */
function processSystemTicks(pid) {
  const fields = statFields(pid);
  return fields ? Number(fields[12]) : undefined;
}

/** Every process's children, by parent pid, from one pass over /proc. */
function childrenByParent() {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = statFields(entry)?.[1];
    if (ppid === undefined) continue;
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(entry);
  }
  return children;
}

/**
 * utime + stime (or, with `ticksOf` = processSystemTicks, stime alone) of a process and all its
 * descendants (the workers of `ferry run --workers N`, nginx's worker under its master).
 */
function treeTicks(pid, children = childrenByParent(), ticksOf = processTicks) {
  let total = 0;
  for (const queue = [String(pid)]; queue.length; ) {
    const p = queue.pop();
    total += ticksOf(p) ?? 0;
    queue.push(...(children.get(p) ?? []));
  }
  return total;
}

/** CPU time of this process's children that have exited and been waited for: wrk, once it is done. */
function reapedChildrenTicks() {
  const fields = statFields('self');
  return fields ? Number(fields[13]) + Number(fields[14]) : undefined;
}

/**
 * The two cores' ticks and the server's: `serverPids` are its processes (a proxy and its
 * upstream), each counted with its descendants; `each` keeps them apart, `eachSystem` their
 * kernel time.
 */
export function sample(serverPids, serverCpu, wrkCpu) {
  const stat = read('/proc/stat');
  if (!stat) return undefined;
  const server = coreTicks(stat, serverCpu);
  const wrk = coreTicks(stat, wrkCpu);
  if (serverPids.some((pid) => processTicks(pid) === undefined)) return undefined;
  const children = childrenByParent();
  const each = serverPids.map((pid) => treeTicks(pid, children));
  const eachSystem = serverPids.map((pid) => treeTicks(pid, children, processSystemTicks));
  const own = each.reduce((a, b) => a + b, 0);
  return server && wrk ? { server, wrk, own, each, eachSystem } : undefined;
}

/**
 * Between two samples: `serverSeconds`, the CPU time the server used (`eachSeconds`, per
 * process, and `eachSystemSeconds`, the part of it in the kernel); `lost`, the share of the server core that went to anything but the
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
    eachSeconds: after.each.map((ticks, i) => (ticks - before.each[i]) / 100),
    eachSystemSeconds: after.eachSystem.map((ticks, i) => (ticks - before.eachSystem[i]) / 100),
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

/**
 * For unpinned runs (the workers scenario), where server and wrk share every core: the whole
 * machine (the aggregate `cpu` line), the server's process tree, and wrk's time once it has exited.
 */
export function sampleMachine(serverPid) {
  const stat = read('/proc/stat');
  if (!stat) return undefined;
  const machine = coreTicks(stat, '');
  const own = processTicks(serverPid) === undefined ? undefined : treeTicks(serverPid);
  const wrk = reapedChildrenTicks();
  return machine && own !== undefined && wrk !== undefined ? { machine, own, wrk } : undefined;
}

/**
 * Between two machine samples: `serverSeconds` (the server and its workers), `wrkSeconds`, and
 * `lost`, the share of all cores that went to anything else or to VM steal. `wrkIdle` is the
 * machine's idle share (the harness's rule "wrk had headroom" does not apply unpinned, so it is
 * reported, not used).
 */
export function machineUsage(before, after) {
  if (!before || !after) return undefined;
  const busy = after.machine.busy - before.machine.busy;
  const idle = after.machine.idle - before.machine.idle;
  const steal = after.machine.steal - before.machine.steal;
  const total = busy + idle + steal;
  if (total <= 0) return undefined;
  const server = after.own - before.own;
  const wrk = after.wrk - before.wrk;
  const others = Math.max(0, busy - server - wrk);
  return {
    serverSeconds: server / 100,
    wrkSeconds: wrk / 100,
    lost: (others + steal) / total,
    steal: steal / total,
    idle: idle / total,
  };
}
