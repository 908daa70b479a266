import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { configFile, Ferry, runFerry } from '@ferry/test-kit/ferry';
import { createServer } from 'node:net';
import { defer } from '@ferry/test-kit/lifecycle';
import { call, config, served } from './helpers.js';
import { freePort, freePorts, refused, untilRefused } from '@ferry/test-kit/ports';

/**
 * Starts `ferry run ARGS` (killed after the test if still running) and resolves with the port
 * of its served listener, read from the JSON log line "listening" — once the admin API is up too,
 * unless `admin` is false.
 */
async function ferryRun(args: string[], admin = true): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const f = new Ferry(['run', ...args]);
  const listening = await f.waitFor((e) => e.msg === 'listening' && typeof e.port === 'number', 'it listened');
  if (admin) await f.waitFor((e) => e.msg === 'admin API listening', 'the admin API listened');
  return { child: f.child, port: listening.port as number, stderr: () => f.stderr };
}

describe('ferry run + ferry reload (admin API)', () => {
  it('reloads a running ferry from a file, refuses an invalid one, and exits 0 on POST /stop', async () => {
    const adminPort = await freePort();
    const admin = { admin: { listen: `127.0.0.1:${adminPort}` } };
    const { child, port } = await ferryRun(['--config', configFile(config('F', '127.0.0.1:0', admin))]);
    expect(await served(port)).toBe('F');

    // A good config: exit 0, the same port now answers with G's body.
    const good = await runFerry([
      'reload',
      '--config',
      configFile(config('G', '127.0.0.1:0', admin)),
      '--address',
      `127.0.0.1:${adminPort}`,
    ]);
    expect(good).toMatchObject({ code: 0, stdout: 'config loaded\n' });
    expect(await served(port)).toBe('G');

    // An invalid one: exit 1, the JSON path printed, the running config unchanged.
    const badJson = config('never', '127.0.0.1:0', admin);
    badJson.apps.http.servers.s.routes[0]!.handle[0]!.handler = 'no_such_handler';
    const bad = await runFerry(['reload', '--config', configFile(badJson), '--address', `http://127.0.0.1:${adminPort}`]);
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
    const bad = await runFerry([
      'reload',
      '--config',
      configFile({ ...admin, apps: { http: { servers: { s: { listen: [] } } } } }),
      '--address',
      `127.0.0.1:${adminPort}`,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('apps.http.servers.s.listen');
    expect(await served(port)).toBe('F');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });

  it('ferry reload fails clearly when no admin API answers, or without --config', async () => {
    const port = await freePort();
    const unreachable = await runFerry(['reload', '--config', configFile(config('x')), '--address', `127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach the admin API/);
    expect((await runFerry(['reload'])).code).toBe(2);
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

  it('a reload that changes the admin section applies it: moved, refused when the new port is taken, origins, disabled', async () => {
    const [a, b, taken] = await freePorts(3);
    const withAdmin = (body: string, admin: Record<string, unknown>) => config(body, '127.0.0.1:0', { admin });
    const { child, port } = await ferryRun(['--config', configFile(withAdmin('F', { listen: `127.0.0.1:${a}` }))]);

    // Moved: the answer comes from the old address, which then closes; the new one serves the API.
    expect((await call(a, 'POST', '/load', withAdmin('G', { listen: `127.0.0.1:${b}` }))).status).toBe(200);
    await untilRefused(a);
    expect(JSON.parse((await call(b, 'GET', '/config/admin/listen')).body)).toBe(`127.0.0.1:${b}`);
    expect(await served(port)).toBe('G');

    // A new admin address that cannot be bound: refused before anything is applied.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const refusedLoad = await call(b, 'POST', '/load', withAdmin('H', { listen: `127.0.0.1:${taken}` }));
    expect(refusedLoad.status).toBe(400);
    expect(JSON.parse(refusedLoad.body)).toMatchObject({
      error: expect.stringMatching(new RegExp(`admin API cannot listen on 127\\.0\\.0\\.1:${taken}.*nothing changed`)),
      issues: [{ path: 'admin.listen' }],
    });
    expect(await served(port)).toBe('G');
    expect(JSON.parse((await call(b, 'GET', '/config/admin/listen')).body)).toBe(`127.0.0.1:${b}`);

    // origins: an Origin that was refused is allowed once the config lists it.
    const origin = { origin: 'https://ops.example' };
    expect((await call(b, 'GET', '/config/', undefined, origin)).status).toBe(403);
    expect((await call(b, 'PATCH', '/config/admin', { listen: `127.0.0.1:${b}`, origins: ['https://ops.example'] })).status).toBe(200);
    expect((await call(b, 'GET', '/config/', undefined, origin)).status).toBe(200);

    // disabled: answered, then the API closes; the servers go on.
    expect((await call(b, 'POST', '/load', withAdmin('I', { disabled: true }))).status).toBe(200);
    await untilRefused(b);
    expect(await served(port)).toBe('I');
    expect(await refused(a)).toBe(true);
    child.kill('SIGTERM');
    expect((await once(child, 'exit'))[0]).toBe(0);
  });
});
