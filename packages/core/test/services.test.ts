import { describe, expect, it } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';
import {
  coreModules,
  defineModule,
  loadConfig,
  metrics,
  moduleFactory,
  path,
  Registry,
  silentLogger,
  z,
  type ClusterMetrics,
} from '../src/index.js';
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

  it('the metrics handler serves the host\'s metrics.cluster with scope "all", and its own process\'s with scope "process"', async () => {
    const cluster: ClusterMetrics = {
      text: async () => 'every_process_total 7\n',
      json: async () => [],
    };
    const server = await serve({
      requestMetrics: true,
      services: { 'metrics.cluster': cluster },
      routes: [{ match: [path('/own')], handle: [metrics({ scope: 'process' })], terminal: true }, { handle: [metrics()] }],
    });
    expect((await send(server.url, '/')).body).toBe('every_process_total 7\n');
    expect((await send(server.url, '/own')).body).toContain('# TYPE ferry_http_requests_total counter');
  });

  it("the metrics handler answers 503 when the host cannot gather every process's metrics", async () => {
    const cluster: ClusterMetrics = {
      text: () => Promise.reject(new Error('worker 2 sent no metrics within 3000 ms')),
      json: async () => [],
    };
    const server = await serve({ services: { 'metrics.cluster': cluster }, routes: [{ handle: [metrics()] }] });
    const res = await send(server.url, '/');
    expect(res.status).toBe(503);
    expect(res.body).toBe('metrics unavailable: worker 2 sent no metrics within 3000 ms\n');
  });
});
