import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';
import { call, config, freePort, served } from './helpers.js';

const CLI = fileURLToPath(new URL('../../apps/ferry/dist/cli.js', import.meta.url));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ferry ARGS` to completion. */
async function ferry(args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** A config file in a fresh temp dir. */
function configFile(json: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-admin-')), 'ferry.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

/**
 * Starts `ferry run ARGS` (killed after the test if still running) and resolves with the port
 * of its served listener, read from the JSON log line "listening" — once the admin API is up too,
 * unless `admin` is false.
 */
async function ferryRun(args: string[], admin = true): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { env: { ...process.env, FERRY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    let port: number | undefined;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      for (const line of stderr.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; port?: number };
          if (entry.msg === 'listening' && entry.port) port = entry.port;
          if (port !== undefined && (!admin || entry.msg === 'admin API listening')) resolve(port);
        } catch {
          // a partial line; wait for the rest
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`ferry exited with ${code} before listening:\n${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}

describe('ferry run + ferry reload (admin API)', () => {
  it('reloads a running ferry from a file, refuses an invalid one, and exits 0 on POST /stop', async () => {
    const adminPort = await freePort();
    const admin = { admin: { listen: `127.0.0.1:${adminPort}` } };
    const { child, port } = await ferryRun(['--config', configFile(config('F', '127.0.0.1:0', admin))]);
    expect(await served(port)).toBe('F');

    // A good config: exit 0, the same port now answers with G's body.
    const good = await ferry(['reload', '--config', configFile(config('G', '127.0.0.1:0', admin)), '--address', `127.0.0.1:${adminPort}`]);
    expect(good).toMatchObject({ code: 0, stdout: 'config loaded\n' });
    expect(await served(port)).toBe('G');

    // An invalid one: exit 1, the JSON path printed, the running config unchanged.
    const badJson = config('never', '127.0.0.1:0', admin);
    badJson.apps.http.servers.s.routes[0]!.handle[0]!.handler = 'no_such_handler';
    const bad = await ferry(['reload', '--config', configFile(badJson), '--address', `http://127.0.0.1:${adminPort}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('apps.http.servers.s.routes[0].handle[0]');
    expect(bad.stderr).toMatch(/running config is unchanged/);
    expect(await served(port)).toBe('G');

    // POST /stop: the process exits 0.
    const exited = once(child, 'exit');
    expect((await call(adminPort, 'POST', '/stop')).status).toBe(200);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  it('an invalid config on reload of the first file keeps serving it', async () => {
    const adminPort = await freePort();
    const admin = { admin: { listen: `127.0.0.1:${adminPort}` } };
    const { child, port } = await ferryRun(['--config', configFile(config('F', '127.0.0.1:0', admin))]);
    const bad = await ferry(['reload', '--config', configFile({ ...admin, apps: { http: { servers: { s: { listen: [] } } } } }), '--address', `127.0.0.1:${adminPort}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('apps.http.servers.s.listen');
    expect(await served(port)).toBe('F');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('ferry reload fails clearly when no admin API answers, or without --config', async () => {
    const port = await freePort();
    const unreachable = await ferry(['reload', '--config', configFile(config('x')), '--address', `127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the admin API/);
    expect((await ferry(['reload'])).code).toBe(2);
  });

  it('does not start the admin API when admin.disabled is set', async () => {
    const adminPort = await freePort();
    const file = configFile(config('F', '127.0.0.1:0', { admin: { disabled: true, listen: `127.0.0.1:${adminPort}` } }));
    const { child, port, stderr } = await ferryRun(['--config', file], false);
    expect(await served(port)).toBe('F');
    await expect(call(adminPort, 'GET', '/config/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    child.kill('SIGTERM');
    expect((await once(child, 'exit'))[0]).toBe(0);
    expect(stderr()).not.toContain('admin API listening');
  });
});
