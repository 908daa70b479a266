import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createServer, error, staticResponse, type FerryServer } from '../src/index.js';

let server: FerryServer | undefined;
afterEach(async () => {
  await server?.close({ gracePeriod: 0 });
  server = undefined;
});

/** Sends raw bytes and returns everything the server answered before closing. */
async function raw(url: string, request: string): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(request);
  let text = '';
  socket.setEncoding('latin1').on('data', (d: string) => (text += d));
  await once(socket, 'close');
  return text;
}

it('a static_response in error routes without status_code answers with the error status, as Caddy does', async () => {
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    routes: [{ handle: [error({ statusCode: 418, error: 'teapot' })] }],
    errors: { routes: [{ handle: [staticResponse({ body: 'custom page: {http.error.message}' })] }] },
  });
  await server.listen();
  const res = await fetch(server.url);
  expect(res.status).toBe(418);
  expect(await res.text()).toBe('custom page: teapot');
});

it('an HTTP/1.0 request renders {http.request.proto} as HTTP/1.0 and matches the http/1.0 protocol matcher', async () => {
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    routes: [
      { match: [{ protocol: 'http/1.0' }], handle: [staticResponse({ body: '1.0 {http.request.proto}' })], terminal: true },
      { handle: [staticResponse({ body: 'other {http.request.proto}' })] },
    ],
  });
  await server.listen();
  expect(await raw(server.url, 'GET / HTTP/1.0\r\n\r\n')).toMatch(/\r\n\r\n1\.0 HTTP\/1\.0$/);
  expect(await raw(server.url, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/\r\n\r\nother HTTP\/1\.1$/);
});

it('a static_response body that is JSON is sent as application/json, other text as text/plain', async () => {
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    routes: [
      {
        match: [{ path: ['/json'] }],
        handle: [staticResponse({ body: '{"ok": true, "path": "{http.request.uri.path}"}' })],
        terminal: true,
      },
      { handle: [staticResponse({ body: '{not json' })] },
    ],
  });
  await server.listen();
  const json = await fetch(`${server.url}/json`);
  expect(json.headers.get('content-type')).toBe('application/json');
  expect(await json.json()).toEqual({ ok: true, path: '/json' });
  expect((await fetch(server.url)).headers.get('content-type')).toBe('text/plain; charset=utf-8');
});
