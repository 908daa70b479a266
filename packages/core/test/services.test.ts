import { describe, expect, it } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';
import { coreModules, defineModule, loadConfig, moduleFactory, Registry, silentLogger, z } from '../src/index.js';
import { send, useServers } from './helpers/http.js';

// A service of this test's own, named as a package names the ones its modules use.
declare module '../src/index.js' {
  interface FerryServices {
    'test.greeting': { text: string };
  }
}

/** `http.handlers.test_greeting`: answers the host's greeting, or "none" when the host provides none. */
const greetingModule = defineModule({
  id: 'http.handlers.test_greeting',
  config: z.strictObject({}),
  provision(_config, ctx) {
    const greeting = ctx.service('test.greeting');
    return async (_req, res) => {
      res.end(greeting?.text ?? 'none');
    };
  },
});

const serve = useServers();
const registry = new Registry([...coreModules, greetingModule]);
const config = { apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'test_greeting' }] }] } } } } };

describe('services from the host (ctx.service)', () => {
  it('a module gets what the host passed to loadConfig, in the config and in every reload', async () => {
    const services = { 'test.greeting': { text: 'from the host' } };
    const app = await loadConfig(config, { registry, logger: silentLogger(), services });
    defer(() => app.stop(0));
    await app.start();
    const url = app.servers[0]!.url;
    expect((await send(url, '/')).body).toBe('from the host');
    services['test.greeting'].text = 'after the reload';
    await app.reload(config);
    expect((await send(url, '/')).body).toBe('after the reload');
  });

  it('a module gets what the host passed to createServer', async () => {
    const server = await serve({
      routes: [{ handle: [moduleFactory(greetingModule)()] }],
      services: { 'test.greeting': { text: 'in code' } },
    });
    expect((await send(server.url, '/')).body).toBe('in code');
  });

  it('a module gets undefined when the host provides no such service', async () => {
    const app = await loadConfig(config, { registry, logger: silentLogger() });
    defer(() => app.stop(0));
    await app.start();
    expect((await send(app.servers[0]!.url, '/')).body).toBe('none');
  });
});
