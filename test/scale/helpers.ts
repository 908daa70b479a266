/** Plumbing for the worker-process tests: the built `ferry` CLI as a child, its JSON log awaited line by line. */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { CLI, configFile, Ferry, type LogEntry } from '@ferry/test-kit/ferry';

export { CLI, configFile, Ferry, type LogEntry };

export const CRASH_PLUGIN = fileURLToPath(new URL('./fixtures/crash-plugin.mjs', import.meta.url));

/**
 * One server on `port` whose routes are `routes`, the admin API on `adminPort`. Every response
 * says which process served it in `X-Pid` ({system.pid}).
 */
export function serverConfig(port: number, adminPort: number, routes: unknown[]) {
  return {
    admin: { listen: `127.0.0.1:${adminPort}` },
    apps: {
      http: {
        servers: {
          s: {
            listen: [`127.0.0.1:${port}`],
            routes: [{ handle: [{ handler: 'headers', response: { set: { 'X-Pid': ['{system.pid}'] } } }] }, ...routes],
          },
        },
      },
    },
  };
}

/** A config answering every request with `body`. */
export const bodyConfig = (port: number, adminPort: number, body: string) =>
  serverConfig(port, adminPort, [{ handle: [{ handler: 'static_response', body }] }]);

/** `ferry run --workers N ARGS`, awaited until it serves: the process and its workers' pids. */
export async function runWorkers(workers: number | string, args: string[], env: Record<string, string> = {}) {
  const ferry = new Ferry(['run', '--workers', String(workers), ...args], env);
  const pids = await ferry.ready();
  return { ferry, pids };
}

/** Runs `ferry ARGS` to completion. */
export async function ferryExit(args: string[], env: Record<string, string> = {}) {
  const ferry = new Ferry(args, { FERRY_LOG_LEVEL: 'warn', ...env });
  const { code } = await ferry.exited;
  return { code, stderr: ferry.stderr, log: ferry.log };
}

export interface Reply {
  status: number;
  body: string;
  pid: number;
}

/** A GET to 127.0.0.1:port (a new connection unless an agent is given): status, body and the serving pid. */
export function get(port: number, path = '/', agent: Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, pid: Number(res.headers['x-pid']) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends requests on new connections until every one of `pids` has answered (the primary deals
 * connections round-robin, so this takes about as many requests as there are workers); returns
 * every reply. Fails after `max` requests (to `path`).
 */
export async function fromEvery(port: number, pids: readonly number[], max = 40, path = '/'): Promise<Reply[]> {
  const replies: Reply[] = [];
  const missing = new Set(pids);
  while (missing.size > 0) {
    if (replies.length >= max)
      throw new Error(`no answer from ${[...missing].join(', ')} in ${max} requests (got ${replies.map((r) => r.pid).join(', ')})`);
    const r = await get(port, path);
    replies.push(r);
    missing.delete(r.pid);
  }
  return replies;
}

/**
 * True while a process with this pid runs. A zombie has exited: an orphaned worker waits there
 * until its new parent (init) reaps it.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Resolves once the process `pid` has exited, or throws after `withinMs`. For a process that is
 * not our child (an orphaned worker) no event tells its exit, so this looks every 10 ms: its
 * stdio closing (an event) comes a moment before the kernel marks it exited.
 */
export async function untilGone(pid: number, withinMs = 5000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (alive(pid)) {
    if (performance.now() > deadline) throw new Error(`process ${pid} still runs after ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
