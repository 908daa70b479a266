/** The built `ferry` CLI as a child process, its JSON log awaited line by line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defer } from './lifecycle.js';

/** The built CLI (`pnpm run build` first). */
export const CLI = fileURLToPath(new URL('../../../apps/ferry/dist/cli.js', import.meta.url));

/** A config file (JSON of `config`, or `config` itself when it is a string) in a fresh temp dir. */
export function configFile(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-config-')), 'ferry.json');
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

export interface LogEntry {
  msg?: string;
  level?: string;
  worker?: number;
  pid?: number;
  [field: string]: unknown;
}

/** A running `ferry` and everything it has logged so far. */
export class Ferry {
  readonly child: ChildProcess;
  readonly log: LogEntry[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters = new Set<{ match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }>();
  #partial = '';

  /** `cwd`: the working directory ferry runs in (this process's by default). */
  constructor(args: string[], env: Record<string, string> = {}, cwd?: string) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, FERRY_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit').then(
      ([code, signal]) => ({ code, signal }) as { code: number | null; signal: NodeJS.Signals | null },
    );
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

export interface FerryResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ARGS` to completion (log level `warn` unless `env` says otherwise). */
export async function runFerry(args: string[], env: Record<string, string> = {}): Promise<FerryResult> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
