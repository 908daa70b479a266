/** Plumbing for the worker-process tests: the built `ferry` CLI as a child, its JSON log awaited line by line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defer } from '@ferry/test-kit/lifecycle';

export const CLI = fileURLToPath(new URL('../../apps/ferry/dist/cli.js', import.meta.url));
export const CRASH_PLUGIN = fileURLToPath(new URL('./fixtures/crash-plugin.mjs', import.meta.url));

export interface LogEntry {
  msg?: string;
  level?: string;
  worker?: number;
  pid?: number;
  [field: string]: unknown;
}

/** A config file in a fresh temp dir. */
export function configFile(json: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-scale-')), 'ferry.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

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

/** A running `ferry` and everything it has logged so far. */
export class Ferry {
  readonly child: ChildProcess;
  readonly log: LogEntry[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters = new Set<{ match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }>();
  #partial = '';

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, FERRY_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }) as { code: number | null; signal: NodeJS.Signals | null });
    this.child.stdout!.resume();
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      const lines = (this.#partial + d).split('\n');
      this.#partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as LogEntry;
        this.log.push(entry);
        for (const w of this.#waiters) {
          if (w.match(entry)) {
            this.#waiters.delete(w);
            w.resolve(entry);
          }
        }
      }
    });
    // Never leave a ferry (or, through it, its workers) behind a test.
    defer(async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    });
  }

  /** The first log entry (already written or still to come) that `match` accepts; rejects if ferry exits first. */
  waitFor(match: (e: LogEntry) => boolean, what = 'a log line'): Promise<LogEntry> {
    const seen = this.log.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      this.#waiters.add(waiter);
      void this.exited.then(({ code, signal }) => {
        if (!this.#waiters.has(waiter)) return;
        this.#waiters.delete(waiter);
        reject(new Error(`ferry exited (${signal ?? code}) before ${what}:\n${this.stderr}`));
      });
    });
  }

  /** Resolves with the workers' pids once all listen and the admin API is up. */
  async ready(): Promise<number[]> {
    const listening = await this.waitFor((e) => e.msg === 'workers listening', 'the workers listened');
    await this.waitFor((e) => e.msg === 'admin API listening', 'the admin API listened');
    return listening.pids as number[];
  }
}

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
 * every reply. Fails after `max` requests.
 */
export async function fromEvery(port: number, pids: readonly number[], max = 40): Promise<Reply[]> {
  const replies: Reply[] = [];
  const missing = new Set(pids);
  while (missing.size > 0) {
    if (replies.length >= max) throw new Error(`no answer from ${[...missing].join(', ')} in ${max} requests (got ${replies.map((r) => r.pid).join(', ')})`);
    const r = await get(port);
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
