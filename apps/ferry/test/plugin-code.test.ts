import { afterEach, expect, it } from 'vitest';
import { createServer, moduleFactory, Registry, coreModules, type FerryServer, staticResponse } from '@ferry/core';
// The same .mjs file `ferry run --plugin` loads, used from code.
import greet from './fixtures/greet-plugin.mjs';

let server: FerryServer | undefined;
afterEach(async () => {
  await server?.close({ gracePeriod: 0 });
});

it('a plugin module works from code, by factory and by JSON name in a registry', async () => {
  const registry = new Registry(coreModules).register(greet);
  const greetHandler = moduleFactory(greet);
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    registry,
    routes: [
      { match: [{ path: ['/factory'] }], handle: [greetHandler({ name: 'code' }), staticResponse({ body: 'a' })], terminal: true },
      {
        handle: [
          { handler: 'greet', name: 'json' },
          { handler: 'static_response', body: 'b' },
        ],
      },
    ],
  });
  await server.listen();
  const a = await fetch(`${server.url}/factory`);
  expect(a.headers.get('x-greet')).toBe('hello, code');
  expect(await a.text()).toBe('a');
  const b = await fetch(`${server.url}/other`);
  expect(b.headers.get('x-greet')).toBe('hello, json');
  expect(await b.text()).toBe('b');
});
