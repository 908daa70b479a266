import { request } from 'undici';
import { expect, it } from 'vitest';
import { ConfigError, coreModules, loadConfig, Registry, silentLogger } from '@ferry/core';
import { readmeExample } from '@ferry/test-kit/readme';
import { within } from '@ferry/test-kit/waiting';
import { sseModule, ssePublishModule } from '../src/index.js';
import { defer, EventSourceClient, type ReceivedEvent } from './helpers.js';

const example = readmeExample(
  { example: new URL('./readme-example.ts', import.meta.url), readme: new URL('../README.md', import.meta.url) },
  () => import('./readme-example.js'),
);
const { readme } = example;
const registry = () => new Registry([...coreModules, sseModule, ssePublishModule]);

it('the README shows the code example exactly as this test runs it (importing @ferry/sse)', () => {
  expect(readme).toContain(example.source.replace("'../src/index.js'", "'@ferry/sse'").trim());
});

it('the README example streams a greeting, published news and the clock, and stops promptly', async () => {
  const client = new EventSourceClient(`${example.server.url}/events`);
  const head = await client.connect();
  expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(await client.next()).toEqual({ type: 'hello', data: '{"subscribers":1}', lastEventId: '' });
  const res = await request(`${example.server.url}/publish`, { method: 'POST', body: 'ferry 1.0 is out' });
  expect(res.statusCode).toBe(202);
  const id = await res.body.text();
  // The clock may tick first: take events until the news arrives, then a tick.
  const seen: ReceivedEvent[] = [];
  while (!seen.some((e) => e.type === 'news') || !seen.some((e) => e.type === 'tick')) seen.push(await client.next(2500));
  expect(seen.find((e) => e.type === 'news')).toEqual({ type: 'news', data: 'ferry 1.0 is out', lastEventId: id });
  const t0 = performance.now();
  await within(example.server.close({ gracePeriod: 10_000 }), 2000, 'server.close()');
  expect(performance.now() - t0).toBeLessThan(1000);
});

it("the README's hub config runs: subscribe, publish from a local client, metrics", async () => {
  const json = /```json\n([\s\S]*?)```/.exec(readme)![1]!.replace('":8080"', '"127.0.0.1:0"');
  const app = await loadConfig(JSON.parse(json), { registry: registry(), logger: silentLogger() });
  await app.start();
  defer(() => app.stop(0));
  const url = app.servers[0]!.url;
  const sub = new EventSourceClient(`${url}/sub/news`);
  await sub.connect();
  const res = await request(`${url}/pub/news`, { method: 'POST', body: 'hello' });
  expect(res.statusCode).toBe(202);
  expect(await res.body.json()).toEqual({ id: '1', stored: true });
  expect(await sub.next()).toEqual({ type: 'message', data: 'hello', lastEventId: '1' });
  const metrics = await (await request(`${url}/metrics`)).body.text();
  expect(metrics).toContain('ferry_sse_subscribers{topic="news"} 1');
});

it('the README quotes the config errors as Ferry words them', async () => {
  const config = {
    apps: {
      http: {
        servers: {
          srv0: {
            listen: ['127.0.0.1:0'],
            routes: [{ handle: [{ handler: 'sse', topic: 't', history: -1, heartbeat: 'soon', bogus: 1 }] }],
          },
        },
      },
    },
  };
  const err = (await loadConfig(config, { registry: registry(), logger: silentLogger() }).catch((e: unknown) => e)) as ConfigError;
  expect(err).toBeInstanceOf(ConfigError);
  const line = (field: string) => err.issues.find((i) => i.path.endsWith(`.${field}`))!;
  expect(readme).toContain(`apps.http.servers.srv0.routes[0].handle[0].history: ${line('history').message}`);
  expect(readme).toContain(`….handle[0].bogus: ${line('bogus').message}`);
  expect(line('heartbeat').message).toMatch(/^invalid duration "soon"/);
});
