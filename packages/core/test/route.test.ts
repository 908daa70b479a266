import { describe, expect, it } from 'vitest';
import { afterEach } from 'vitest';
import { createServer, path, staticResponse, type FerryServer } from '../src/index.js';

let server: FerryServer | undefined;
afterEach(async () => {
  await server?.close({ gracePeriod: 0 });
  server = undefined;
});

describe('routes', () => {
  it('serves a matching route and falls through to the empty 200 otherwise', async () => {
    server = createServer({
      listen: '127.0.0.1:0',
      logger: false,
      routes: [{ match: [path('/hello')], handle: [staticResponse({ body: 'Hello, World!' })] }],
    });
    await server.listen();
    const hit = await fetch(`${server.url}/hello`);
    expect(hit.status).toBe(200);
    expect(await hit.text()).toBe('Hello, World!');
    const miss = await fetch(`${server.url}/other`);
    expect(miss.status).toBe(200);
    expect(await miss.text()).toBe('');
  });
});
