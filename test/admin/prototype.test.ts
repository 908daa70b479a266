import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type FerryApp } from '@ferry/core';
import { AdminServer } from '@ferry/core/internal';
import { defer } from '@ferry/test-kit/lifecycle';
import { call, config, portOf, served, startApp } from './helpers.js';

/**
 * Issue #13 item 7: `PUT /config/__proto__/trusted_proxies` wrote to Object.prototype of the
 * serving process (this one: the admin API runs in the test), and every later /load failed.
 */

const builtins = [Object.prototype, Array.prototype, Function.prototype, Object, Object.prototype.toString];
const snapshot = () => builtins.map((o) => Object.getOwnPropertyNames(o));
const clean = snapshot();

// Undo any pollution, so one failure does not spread to the tests after it.
afterEach(() => {
  builtins.forEach((o, i) => {
    for (const name of Object.getOwnPropertyNames(o)) if (!clean[i]!.includes(name)) delete (o as unknown as Record<string, unknown>)[name];
  });
});

async function startAdmin(app: FerryApp): Promise<number> {
  const admin = new AdminServer(app, { listen: '127.0.0.1:0', logger: silentLogger() });
  await admin.start();
  defer(() => admin.close());
  return admin.address.port;
}

const paths = [
  '/config/__proto__/trusted_proxies',
  '/config/__proto__',
  '/config/%5f%5fproto%5f%5f/trusted_proxies',
  '/config/%5F%5Fproto%5F%5F',
  '/config/constructor/prototype/trusted_proxies',
  '/config/apps/constructor/prototype',
  '/config/apps/http/servers/s/__proto__/listen',
  '/config/apps/http/servers/s/listen/constructor',
  '/config/apps/http/servers/s/prototype',
];

describe('admin API: paths through an object prototype', () => {
  for (const method of ['PUT', 'POST', 'PATCH', 'GET', 'DELETE']) {
    it(`${method} answers 400 for __proto__, constructor and prototype segments, and a later /load still works`, async () => {
      const app = await startApp(config('before'));
      const port = await startAdmin(app);
      for (const path of paths) {
        const answer = await call(port, method, path, method === 'GET' || method === 'DELETE' ? undefined : ['10.0.0.0/8']);
        expect(answer.status, `${method} ${path}: ${answer.body}`).toBe(400);
        expect(JSON.parse(answer.body).error).toMatch(/"(__proto__|constructor|prototype)" is not allowed/);
      }
      expect(snapshot()).toEqual(clean);
      expect((await call(port, 'POST', '/load', config('after'))).status).toBe(200);
      expect(await served(portOf(app))).toBe('after');
    });
  }

  it('answers 400 for a path segment that is not valid percent-encoding', async () => {
    const app = await startApp(config('x'));
    const port = await startAdmin(app);
    const answer = await call(port, 'GET', '/config/apps/%ff');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error).toMatch(/percent-encoding/);
  });
});

describe('admin API: bodies with prototype keys', () => {
  it('POST /load refuses a "__proto__" key anywhere with 400 naming its JSON path; the running config stays', async () => {
    const app = await startApp(config('kept'));
    const port = await startAdmin(app);
    const text = JSON.stringify(config('never')).replace('"s":{', '"s":{"__proto__":{"listen":["127.0.0.1:0"]},');
    const answer = await call(port, 'POST', '/load', Buffer.from(text));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).issues).toEqual([
      { path: 'apps.http.servers.s.__proto__', message: expect.stringMatching(/not allowed as a key/) },
    ]);
    expect(await served(portOf(app))).toBe('kept');
    expect(snapshot()).toEqual(clean);
  });

  it('a /config change refuses a "__proto__" or "constructor" key in its body, with the JSON path in the config', async () => {
    const app = await startApp(config('kept'));
    const port = await startAdmin(app);
    const route = Buffer.from('{"handle":[{"handler":"vars","__proto__":{"polluted":true}}]}');
    const put = await call(port, 'PUT', '/config/apps/http/servers/s/routes/0', route);
    expect(put.status).toBe(400);
    expect(JSON.parse(put.body).issues).toEqual([
      { path: 'apps.http.servers.s.routes[0].handle[0].__proto__', message: expect.stringMatching(/not allowed as a key/) },
    ]);
    const server = Buffer.from('{"listen":["127.0.0.1:0"],"constructor":{"prototype":{"polluted":true}}}');
    const post = await call(port, 'POST', '/config/apps/http/servers/t', server);
    expect(post.status).toBe(400);
    expect(JSON.parse(post.body).issues[0].path).toBe('apps.http.servers.t.constructor');
    expect(await served(portOf(app))).toBe('kept');
    expect(snapshot()).toEqual(clean);
  });
});
