import type { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { call } from '../admin/helpers.js';
import { freePorts, refused, untilRefused } from '@ferry/test-kit/ports';
import {
  alive,
  bodyConfig,
  configFile,
  CRASH_PLUGIN,
  Ferry,
  ferryExit,
  fromEvery,
  get,
  runWorkers,
  serverConfig,
  untilGone,
} from './helpers.js';

describe('ferry run --workers N', () => {
  it('serves from 2 worker processes sharing one listener; the primary serves none of it', async () => {
    const [port, adminPort] = await freePorts(2);
    const { ferry, pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'hello'))]);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(ferry.child.pid);
    const replies = await fromEvery(port, pids);
    expect(new Set(replies.map((r) => r.pid))).toEqual(new Set(pids));
    for (const r of replies) expect(r).toMatchObject({ status: 200, body: 'hello' });
  });

  it('replaces a worker killed with SIGKILL, logging it; requests keep being answered', async () => {
    const [port, adminPort] = await freePorts(2);
    const { ferry, pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'hello'))]);
    const [victim, survivor] = pids as [number, number];
    process.kill(victim, 'SIGKILL');

    const crash = await ferry.waitFor((e) => e.pid === victim && /exited unexpectedly/.test(e.msg ?? ''), 'the crash was logged');
    expect(crash).toMatchObject({ level: 'error', signal: 'SIGKILL', code: null });
    expect(crash.msg).toMatch(/starting a replacement/);
    // While the replacement starts, every request is answered (by the other worker, until the
    // replacement listens).
    const replaced = ferry.waitFor((e) => e.worker === crash.worker && /replaced/.test(e.msg ?? ''), 'the replacement');
    let pending = true;
    void replaced.finally(() => (pending = false));
    do {
      const r = await get(port);
      expect(r).toMatchObject({ status: 200, body: 'hello' });
      expect(r.pid).not.toBe(victim);
    } while (pending);

    const fresh = (await replaced).pid!;
    expect(fresh).not.toBe(victim);
    expect(alive(victim)).toBe(false);
    const replies = await fromEvery(port, [survivor, fresh]);
    for (const r of replies) expect(r).toMatchObject({ status: 200, body: 'hello' });
  });

  it('a worker sent SIGTERM alone stops gracefully and is replaced; the others keep serving', async () => {
    const [port, adminPort] = await freePorts(2);
    const { ferry, pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'hello'))]);
    const [leaving, staying] = pids as [number, number];
    process.kill(leaving, 'SIGTERM');
    await ferry.waitFor((e) => e.pid === leaving && e.msg === 'stopping' && e.why === 'SIGTERM', 'the worker stopping');
    const exit = await ferry.waitFor((e) => e.pid === leaving && /exited unexpectedly/.test(e.msg ?? ''), 'its exit');
    expect(exit).toMatchObject({ code: 0, signal: null });
    const fresh = (await ferry.waitFor((e) => e.worker === exit.worker && /replaced/.test(e.msg ?? ''), 'the replacement')).pid!;
    for (const r of await fromEvery(port, [staying, fresh])) expect(r).toMatchObject({ status: 200, body: 'hello' });
    expect(alive(ferry.child.pid!)).toBe(true);
  });

  it('starts a replacement with the config loaded since, and backs off when replacements keep dying young', async () => {
    const [port, adminPort] = await freePorts(2);
    const routes = (body: string) => [
      { match: [{ path: ['/crash'] }], handle: [{ handler: 'test_crash', slot: '1' }], terminal: true },
      { handle: [{ handler: 'static_response', body }] },
    ];
    const { ferry } = await runWorkers(2, ['--plugin', CRASH_PLUGIN, '--config', configFile(serverConfig(port, adminPort, routes('old')))]);
    expect((await call(adminPort, 'POST', '/load', serverConfig(port, adminPort, routes('new')))).status).toBe(200);

    const delays: number[] = [];
    for (let round = 1; round <= 3; round++) {
      // Worker 1 exits on /crash; worker 2 answers "spared". Connections alternate between them.
      for (;;) {
        const r = await get(port, '/crash').catch(() => undefined);
        if (r === undefined) break;
        expect(r.body).toBe('spared');
      }
      const crash = await ferry.waitFor(
        (e) => e.worker === 1 && /exited unexpectedly/.test(e.msg ?? '') && !delays.includes(e.time as number),
        'a crash',
      );
      expect(crash).toMatchObject({ code: 3, signal: null });
      delays.push(crash.time as number);
      const replaced = await ferry.waitFor(
        (e) => e.worker === 1 && /replaced/.test(e.msg ?? '') && (e.time as number) >= (crash.time as number),
        'a replacement',
      );
      // The replacement serves the config loaded after the start, not the one ferry started with.
      const replies = await fromEvery(port, [replaced.pid!]);
      expect(replies.find((r) => r.pid === replaced.pid)).toMatchObject({ status: 200, body: 'new' });
    }
    const restartIn = ferry.log.filter((e) => /exited unexpectedly/.test(e.msg ?? '')).map((e) => e.restartInMs);
    expect(restartIn).toEqual([0, 250, 500]);
  });

  it('fans a reload (ferry reload, POST /load) out to every worker; an invalid config is refused with its JSON paths and no worker takes it', async () => {
    const [port, adminPort] = await freePorts(2);
    const { ferry, pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'old'))]);

    // `ferry reload` posts to /load, as it does without workers.
    const reload = await ferryExit([
      'reload',
      '--config',
      configFile(bodyConfig(port, adminPort, 'new')),
      '--address',
      `127.0.0.1:${adminPort}`,
    ]);
    expect(reload).toMatchObject({ code: 0 });
    for (const r of await fromEvery(port, pids)) expect(r).toMatchObject({ status: 200, body: 'new' });

    const bad = bodyConfig(port, adminPort, 'never') as {
      apps: { http: { servers: { s: { routes: { handle: { handler: string }[] }[] } } } };
    };
    bad.apps.http.servers.s.routes[1]!.handle[0]!.handler = 'no_such_handler';
    const refusedLoad = await call(adminPort, 'POST', '/load', bad);
    expect(refusedLoad.status).toBe(400);
    expect(JSON.parse(refusedLoad.body)).toMatchObject({
      error: 'invalid config: nothing changed',
      issues: [expect.objectContaining({ path: 'apps.http.servers.s.routes[1].handle[0].handler' })],
    });
    for (const r of await fromEvery(port, pids)) expect(r).toMatchObject({ status: 200, body: 'new' });
    expect(JSON.parse((await call(adminPort, 'GET', '/config/apps/http/servers/s/routes/1/handle/0/body')).body)).toBe('new');

    // POST /stop: every process exits, the primary with 0.
    expect((await call(adminPort, 'POST', '/stop')).status).toBe(200);
    expect(await ferry.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('a reload that a worker cannot apply is undone on every worker, and the admin API says so', async () => {
    const [port, adminPort, taken] = await freePorts(3);
    const { pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'old'))]);
    // A second server on a port someone else holds: valid, but no worker can listen there.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const next = bodyConfig(port, adminPort, 'new') as { apps: { http: { servers: Record<string, unknown> } } };
    next.apps.http.servers.t = { listen: [`127.0.0.1:${taken}`], routes: [] };

    const answer = await call(adminPort, 'POST', '/load', next);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(
      /^cannot apply the config: worker \d \(pid \d+\): cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE.*; the previous config was restored$/,
    );
    for (const r of await fromEvery(port, pids)) expect(r).toMatchObject({ status: 200, body: 'old' });
    expect(JSON.parse((await call(adminPort, 'GET', '/config/apps/http/servers/s/routes/1/handle/0/body')).body)).toBe('old');
  });

  it('stops on SIGTERM: a slow request in flight completes, then every process exits, the primary with 0', async () => {
    const [port, adminPort] = await freePorts(2);
    const entered = deferred();
    const release = deferred();
    const upstream: Server = createServer((_req, res) => {
      res.write('slow ');
      entered.resolve();
      void release.promise.then(() => res.end('and done'));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => upstream.close(() => resolve())));
    const dial = `127.0.0.1:${(upstream.address() as { port: number }).port}`;
    const { ferry, pids } = await runWorkers(2, [
      '--config',
      configFile(serverConfig(port, adminPort, [{ handle: [{ handler: 'reverse_proxy', upstreams: [{ dial }] }] }])),
    ]);

    const slow = get(port);
    await entered.promise;
    ferry.child.kill('SIGTERM');
    // Both workers have begun their graceful stop before the upstream finishes the response.
    for (const pid of pids) await ferry.waitFor((e) => e.pid === pid && e.msg === 'stopping', `worker ${pid} stopping`);
    // No new connection is taken meanwhile.
    await untilRefused(port);
    release.resolve();
    expect(await slow).toMatchObject({ status: 200, body: 'slow and done' });
    expect(await ferry.exited).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('workers do not outlive a primary killed with SIGKILL', async () => {
    const [port, adminPort] = await freePorts(2);
    const { ferry, pids } = await runWorkers(2, ['--config', configFile(bodyConfig(port, adminPort, 'hello'))]);
    const closed = once(ferry.child, 'close');
    ferry.child.kill('SIGKILL');
    // The workers share the primary's stderr pipe: it closes once the last of them is exiting.
    await closed;
    for (const pid of pids) await untilGone(pid);
    expect(await refused(port)).toBe(true);
  });

  it('all workers serve the one certificate the internal issuer made, with FERRY_WORKERS=2', async () => {
    const [port, adminPort] = await freePorts(2);
    const cache = mkdtempSync(join(tmpdir(), 'ferry-scale-cache-'));
    const json = bodyConfig(port, adminPort, 'tls') as {
      apps: Record<string, unknown> & { http: { servers: { s: Record<string, unknown> } } };
    };
    json.apps.http.servers.s.tls_connection_policies = [{}];
    json.apps.tls = { automation: { policies: [{ subjects: ['localhost', '127.0.0.1'], issuers: [{ module: 'internal' }] }] } };
    const ferry = new Ferry(['run', '--config', configFile(json)], { FERRY_WORKERS: '2', FERRY_CACHE_DIR: cache });
    const pids = await ferry.ready();
    expect(pids).toHaveLength(2);

    const seen = new Map<number, string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const { pid, fingerprint } = await new Promise<{ pid: number; fingerprint: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/', agent: false, rejectUnauthorized: false }, (res) => {
          const cert = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate() as X509Certificate;
          res.resume();
          res.on('end', () => resolve({ pid: Number(res.headers['x-pid']), fingerprint: cert.fingerprint256 }));
        });
        req.on('error', reject);
        req.end();
      });
      seen.set(pid, fingerprint);
    }
    expect([...seen.keys()].sort()).toEqual([...pids].sort());
    expect(new Set(seen.values()).size).toBe(1);
    expect(readdirSync(join(cache, 'certificates'))).toEqual([expect.stringMatching(/\.pem$/)]);
  });

  it('refuses a bad --workers value or FERRY_WORKERS with exit 2', async () => {
    for (const args of [['--workers', '0'], ['--workers=-1'], ['--workers', 'x'], ['--workers', '1.5']]) {
      const r = await ferryExit(['run', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--workers must be a whole number from 1 to 9999, or "auto"/);
    }
    const env = await ferryExit(['run'], { FERRY_WORKERS: 'many' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('FERRY_WORKERS must be a whole number');
  });

  it('an invalid config with --workers 2 exits 1 with its JSON paths, and no worker starts', async () => {
    const [port, adminPort] = await freePorts(2);
    const json = bodyConfig(port, adminPort, 'x') as { apps: { http: { servers: { s: Record<string, unknown> } } } };
    json.apps.http.servers.s.idle_timeout = 'soon';
    const r = await ferryExit(['run', '--workers', '2', '--config', configFile(json)], { FERRY_LOG_LEVEL: 'info' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: apps.http.servers.s.idle_timeout');
    expect(r.stderr).toContain('1 problem: nothing started');
    expect(r.log.filter((e) => e.worker !== undefined)).toEqual([]);
    expect(await refused(port)).toBe(true);
    expect(await refused(adminPort)).toBe(true);
  });

  it('a worker that cannot listen at start stops them all: exit 1 with the error', async () => {
    const [port, adminPort] = await freePorts(2);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const ferry = new Ferry(['run', '--workers', '2', '--config', configFile(bodyConfig(port, adminPort, 'x'))]);
    const started = ferry.log;
    expect((await ferry.exited).code).toBe(1);
    expect(ferry.stderr).toMatch(/^error: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/m);
    const workerPids = new Set(started.filter((e) => e.worker !== undefined).map((e) => e.pid!));
    expect(workerPids.size).toBe(2);
    for (const pid of workerPids) expect(alive(pid)).toBe(false);
    expect(await refused(adminPort)).toBe(true);
  });
});
