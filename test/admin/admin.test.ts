import { describe, expect, it } from 'vitest';
import { coreModules, defineModule, Registry, silentLogger, z, type FerryApp } from '@ferry/core';
import { AdminServer, changeConfig, type AdminOptions } from '@ferry/core/internal';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { call, config, portOf, served, startApp } from './helpers.js';
import { untilRefused } from '@ferry/test-kit/ports';

/** An admin API on an ephemeral loopback port for `app`, closed after the test. */
async function startAdmin(app: FerryApp, options: Partial<AdminOptions> = {}): Promise<{ admin: AdminServer; port: number }> {
  const admin = new AdminServer(app, { listen: '127.0.0.1:0', logger: silentLogger(), ...options });
  await admin.start();
  defer(() => admin.close());
  return { admin, port: admin.address.port };
}

const HANDLER_BODY = '/config/apps/http/servers/s/routes/0/handle/0/body';

describe('admin API: /config', () => {
  it('GET /config/ returns the running config, and a nested path its value', async () => {
    const app = await startApp(config('one'));
    const { port } = await startAdmin(app);
    const all = await call(port, 'GET', '/config/');
    expect(all.status).toBe(200);
    expect(JSON.parse(all.body)).toEqual(config('one'));
    const listen = await call(port, 'GET', '/config/apps/http/servers/s/listen/0');
    expect(listen).toEqual({ status: 200, body: '"127.0.0.1:0"\n' });
    expect((await call(port, 'GET', '/config/apps/http/servers/nope')).status).toBe(404);
  });

  it('PATCH of a handler field changes what the server answers, on the same port', async () => {
    const app = await startApp(config('before'));
    const { port } = await startAdmin(app);
    const served0 = portOf(app);
    expect(await served(served0)).toBe('before');
    expect((await call(port, 'PATCH', HANDLER_BODY, 'after')).status).toBe(200);
    expect(portOf(app)).toBe(served0);
    expect(await served(served0)).toBe('after');
    expect(JSON.parse((await call(port, 'GET', HANDLER_BODY)).body)).toBe('after');
  });

  it('POST to an array path appends; PUT on an existing key is 409; DELETE removes', async () => {
    const app = await startApp(config('fallback'));
    const { port } = await startAdmin(app);
    const routes = '/config/apps/http/servers/s/routes';
    // Appended after the catch-all: never reached. Inserted before it (PUT at index 0): answers /x.
    const xRoute = { match: [{ path: ['/x'] }], handle: [{ handler: 'static_response', body: 'x' }] };
    expect((await call(port, 'POST', routes, xRoute)).status).toBe(200);
    expect(JSON.parse((await call(port, 'GET', routes)).body)).toHaveLength(2);
    expect((await call(portOf(app), 'GET', '/x')).body).toBe('fallback');
    expect((await call(port, 'PUT', `${routes}/0`, xRoute)).status).toBe(200);
    expect((await call(portOf(app), 'GET', '/x')).body).toBe('x');

    const conflict = await call(port, 'PUT', '/config/apps/http/servers/s/listen', ['127.0.0.1:0']);
    expect(conflict.status).toBe(409);
    expect(JSON.parse(conflict.body).error).toMatch(/already exists/);

    expect((await call(port, 'DELETE', `${routes}/0`)).status).toBe(200);
    expect((await call(portOf(app), 'GET', '/x')).body).toBe('fallback');
    expect(JSON.parse((await call(port, 'GET', routes)).body)).toHaveLength(2);
    expect((await call(port, 'DELETE', `${routes}/9`)).status).toBe(404);
  });

  it('POST /load with a whole new config switches the answers', async () => {
    const app = await startApp(config('old'));
    const { port } = await startAdmin(app);
    expect(await served(portOf(app))).toBe('old');
    expect((await call(port, 'POST', '/load', config('new'))).status).toBe(200);
    expect(await served(portOf(app))).toBe('new');
    expect(JSON.parse((await call(port, 'GET', '/config/')).body)).toEqual(config('new'));
  });

  it('refuses a config with an unknown handler: 400 with the JSON path, and the old config keeps serving', async () => {
    const app = await startApp(config('kept'));
    const { port } = await startAdmin(app);
    const servedPort = portOf(app);
    const bad = config('never');
    bad.apps.http.servers.s.routes[0]!.handle[0]!.handler = 'no_such_handler';
    const answer = await call(port, 'POST', '/load', bad);
    expect(answer.status).toBe(400);
    const parsed = JSON.parse(answer.body) as { error: string; issues: { path: string; message: string }[] };
    expect(parsed.error).toMatch(/nothing changed/);
    expect(parsed.issues.length).toBeGreaterThan(0);
    expect(parsed.issues[0]!.path).toMatch(/^apps\.http\.servers\.s\.routes\[0\]\.handle\[0\]/);
    expect(parsed.issues[0]!.message).toMatch(/no_such_handler/);
    // The same for a /config change.
    const patched = await call(port, 'PATCH', '/config/apps/http/servers/s/routes/0/handle/0/handler', 'no_such_handler');
    expect(patched.status).toBe(400);
    expect(JSON.parse(patched.body).issues[0].path).toMatch(/^apps\.http\.servers\.s\.routes\[0\]\.handle\[0\]/);

    expect(portOf(app)).toBe(servedPort);
    expect(await served(servedPort)).toBe('kept');
    expect(JSON.parse((await call(port, 'GET', '/config/')).body)).toEqual(config('kept'));
  });
});

/** A handler whose provisioning waits for a timer: a load that is not done in one turn (as with I/O). */
const slow = defineModule({
  id: 'http.handlers.test_slow',
  config: z.strictObject({ body: z.string() }),
  async provision({ body }) {
    await new Promise((r) => setTimeout(r, 1));
    return async (_req, res) => void res.end(body);
  },
});

describe('admin API: concurrent changes', () => {
  it('applies overlapping /config changes one after another: no change is lost', async () => {
    const app = await startApp(config('x'), { registry: new Registry([...coreModules, slow]) });
    const { port } = await startAdmin(app);
    const routes = '/config/apps/http/servers/s/routes';
    const route = (i: number) => ({ match: [{ path: [`/r${i}`] }], handle: [{ handler: 'test_slow', body: `r${i}` }] });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(port, 'POST', routes, route(i))));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(JSON.parse((await call(port, 'GET', routes)).body)).toHaveLength(11);
  });
});

describe('admin API: Host and Origin checks', () => {
  it('refuses a foreign Host header with 403', async () => {
    const app = await startApp(config('x'));
    const { port } = await startAdmin(app);
    const a = await call(port, 'GET', '/config/', undefined, { host: 'evil.example:1234' });
    expect(a.status).toBe(403);
    expect(JSON.parse(a.body).error).toMatch(/host not allowed/);
    // A change sent with it is not applied.
    expect((await call(port, 'POST', '/load', config('evil'), { host: 'evil.example:1234' })).status).toBe(403);
    expect(await served(portOf(app))).toBe('x');
  });

  it('refuses an Origin not allowed, and accepts the listen address and configured origins', async () => {
    const app = await startApp(config('x'));
    const { port } = await startAdmin(app, { origins: ['https://ui.example:8443'] });
    expect((await call(port, 'GET', '/config/', undefined, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call(port, 'GET', '/config/', undefined, { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    expect((await call(port, 'GET', '/config/', undefined, { origin: 'https://ui.example:8443' })).status).toBe(200);
    // No Origin: allowed unless enforced.
    expect((await call(port, 'GET', '/config/')).status).toBe(200);
  });

  it('with enforceOrigin, requires an allowed Origin', async () => {
    const app = await startApp(config('x'));
    const { port } = await startAdmin(app, { enforceOrigin: true });
    const none = await call(port, 'GET', '/config/');
    expect(none.status).toBe(403);
    expect(JSON.parse(none.body).error).toMatch(/Origin header is required/);
    expect((await call(port, 'GET', '/config/', undefined, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await call(port, 'GET', '/config/', undefined, { origin: `http://127.0.0.1:${port}` })).status).toBe(200);
  });
});

describe('admin API: /stop and errors', () => {
  it('POST /stop stops the app, closes the admin API and calls onStop', async () => {
    const app = await startApp(config('x'));
    const stopped = deferred();
    const { port } = await startAdmin(app, { onStop: () => stopped.resolve() });
    const servedPort = portOf(app);
    expect(await served(servedPort)).toBe('x');
    expect((await call(port, 'POST', '/stop')).status).toBe(200);
    await stopped.promise;
    await untilRefused(servedPort);
    await untilRefused(port);
  });

  it('answers 405, 404 and 400 for wrong methods, endpoints and bodies', async () => {
    const app = await startApp(config('x'));
    const { port } = await startAdmin(app);
    expect((await call(port, 'GET', '/load')).status).toBe(405);
    expect((await call(port, 'GET', '/stop')).status).toBe(405);
    expect((await call(port, 'GET', '/nope')).status).toBe(404);
    expect((await call(port, 'POST', '/load', Buffer.from('{not json'))).status).toBe(400);
    expect(await served(portOf(app))).toBe('x');
  });
});

describe('changeConfig', () => {
  const base = () => ({ list: [1, 2], obj: { a: 1 } });

  it('POST appends to an array (each item of an array body) and creates or replaces otherwise', () => {
    expect(changeConfig(base(), 'POST', '/list', 3)).toEqual({ list: [1, 2, 3], obj: { a: 1 } });
    expect(changeConfig(base(), 'POST', '/list', [3, 4])).toEqual({ list: [1, 2, 3, 4], obj: { a: 1 } });
    expect(changeConfig(base(), 'POST', '/obj/a', 9)).toEqual({ list: [1, 2], obj: { a: 9 } });
    expect(changeConfig(base(), 'POST', '/obj/b', 2)).toEqual({ list: [1, 2], obj: { a: 1, b: 2 } });
    expect(changeConfig(base(), 'POST', '/list/1', 7)).toEqual({ list: [1, 7], obj: { a: 1 } });
  });

  it('PUT inserts into an array and creates a key, but refuses to overwrite one (409)', () => {
    expect(changeConfig(base(), 'PUT', '/list/0', 0)).toEqual({ list: [0, 1, 2], obj: { a: 1 } });
    expect(changeConfig(base(), 'PUT', '/list/2', 3)).toEqual({ list: [1, 2, 3], obj: { a: 1 } });
    expect(changeConfig(base(), 'PUT', '/obj/b', 2)).toEqual({ list: [1, 2], obj: { a: 1, b: 2 } });
    expect(() => changeConfig(base(), 'PUT', '/obj/a', 2)).toThrow(expect.objectContaining({ status: 409 }));
  });

  it('PATCH replaces what exists and is 404 for what does not', () => {
    expect(changeConfig(base(), 'PATCH', '/obj/a', 5)).toEqual({ list: [1, 2], obj: { a: 5 } });
    expect(changeConfig(base(), 'PATCH', '/list/0', 5)).toEqual({ list: [5, 2], obj: { a: 1 } });
    expect(() => changeConfig(base(), 'PATCH', '/obj/b', 5)).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => changeConfig(base(), 'PATCH', '/list/5', 5)).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => changeConfig(undefined, 'PATCH', '/', {})).toThrow(expect.objectContaining({ status: 404 }));
  });

  it('DELETE removes (404 when missing); a missing parent is 404; the input is not modified', () => {
    const input = base();
    expect(changeConfig(input, 'DELETE', '/list/0', undefined)).toEqual({ list: [2], obj: { a: 1 } });
    expect(changeConfig(input, 'DELETE', '/obj/a', undefined)).toEqual({ list: [1, 2], obj: {} });
    expect(changeConfig(input, 'DELETE', '/', undefined)).toEqual({});
    expect(() => changeConfig(input, 'DELETE', '/obj/zz', undefined)).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => changeConfig(input, 'POST', '/missing/deep/key', 1)).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => changeConfig(input, 'POST', '/list/x', 1)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => changeConfig(input, 'GET', '/obj', 1)).toThrow(expect.objectContaining({ status: 405 }));
    expect(input).toEqual(base());
  });
});
