import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/**
 * The Redis tests use a real redis-server from Debian's package. On a machine without it, this
 * installs it when it can (root with apt-get, as on CI), and otherwise says how to get it. Meant
 * for a vitest globalSetup: it runs once, before any test file.
 */
export function ensureRedisServer(): void {
  if (existsSync(REDIS_SERVER)) return;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) {
    throw new Error(`the Redis tests need redis-server at ${REDIS_SERVER}: install Debian's "redis-server" package (or set REDIS_SERVER)`);
  }
  process.stderr.write('redis: installing Debian redis-server (once per machine)…\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], { stdio: 'ignore', env });
  if (!existsSync(REDIS_SERVER)) throw new Error(`apt-get installed redis-server but ${REDIS_SERVER} is missing`);
}

/** A redis-server child on 127.0.0.1, without persistence: a restart starts empty, as after a crash. */
export class RedisProcess {
  #child: ChildProcess | undefined;
  readonly #dir = mkdtempSync(join(tmpdir(), 'ferry-redis-'));

  private constructor(readonly port: number) {}

  static async start(port?: number): Promise<RedisProcess> {
    const redis = new RedisProcess(port ?? (await freePort()));
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server (again, on the same port); resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.#child) throw new Error('redis-server is running');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)));
      child.once('error', reject);
    });
    try {
      await ready;
    } catch (err) {
      this.#child = undefined;
      throw err;
    }
  }

  /** Kills the server at once (SIGKILL, as a crash): what it held is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
