/**
 * `static_response` answers HEAD with the header fields the GET would have (RFC 9110 §9.3.2),
 * Content-Length included — the byte length of the rendered body in UTF-8 — and no body. Caddy
 * sends `Content-Length: 13` for `Hello, world!`. The HTTP/1.1 answers are read from a raw socket,
 * so a body byte that should not be there would show.
 */
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { staticResponse } from '../src/index.js';
import { useServers } from './helpers/http.js';

const serve = useServers();

/** Every byte the server sends for `request` on a fresh connection, up to its close. */
async function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  socket.setEncoding('latin1');
  let received = '';
  socket.on('data', (d: string) => (received += d));
  socket.write(request);
  const timer = setTimeout(() => socket.destroy(), 3000);
  await once(socket, 'close');
  clearTimeout(timer);
  return received;
}

/** One HTTP/1.1 request with `Connection: close`: the head's fields (lower-case names) and the bytes after it. */
async function h1(url: string, method: string, path: string): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const raw = await rawExchange(url, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const end = raw.indexOf('\r\n\r\n');
  expect(end, `a complete head in ${JSON.stringify(raw)}`).toBeGreaterThan(0);
  const headers: Record<string, string> = {};
  for (const line of raw.slice(0, end).split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: Buffer.from(raw.slice(end + 4), 'latin1') };
}

/** One h2c request: its response header fields and body. */
async function h2(url: string, method: string, path: string): Promise<{ headers: IncomingHttpHeaders; body: Buffer }> {
  const session = h2connect(url);
  session.on('error', () => {});
  try {
    const stream = session.request({ ':method': method, ':path': path });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    // A bodiless stream may end right after its headers: both are awaited from the start.
    const [[headers]] = (await Promise.all([once(stream, 'response'), once(stream, 'end')])) as [[IncomingHttpHeaders], unknown];
    return { headers, body: Buffer.concat(chunks) };
  } finally {
    session.destroy();
  }
}

const MULTIBYTE = 'héllo {http.request.uri.path} — ✓ 🚢';

describe('static_response answers HEAD with the Content-Length of the GET', () => {
  it('HTTP/1.1: HEAD of "Hello, world!" carries Content-Length 13 and no body', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ body: 'Hello, world!' })] }] });
    const head = await h1(server.url, 'HEAD', '/');
    expect(head.headers['content-length']).toBe('13');
    expect(head.body.length).toBe(0);
  });

  it('HTTP/1.1: HEAD of a body with placeholders and multi-byte characters carries the byte length the GET sends', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ body: MULTIBYTE })] }] });
    const get = await h1(server.url, 'GET', '/%C3%BCn%C3%AF');
    const head = await h1(server.url, 'HEAD', '/%C3%BCn%C3%AF');
    expect(get.body.toString('utf8')).toBe('héllo /ünï — ✓ 🚢');
    expect(get.headers['content-length']).toBe(String(get.body.length));
    expect(head.headers['content-length']).toBe(String(get.body.length));
    expect(head.body.length).toBe(0);
  });

  it('h2c: HEAD of "Hello, world!" carries content-length 13 and no body', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], routes: [{ handle: [staticResponse({ body: 'Hello, world!' })] }] });
    const head = await h2(server.url, 'HEAD', '/');
    expect(head.headers['content-length']).toBe('13');
    expect(head.body.length).toBe(0);
  });

  it('h2c: HEAD and GET of a body with placeholders and multi-byte characters carry its byte length', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], routes: [{ handle: [staticResponse({ body: MULTIBYTE })] }] });
    const get = await h2(server.url, 'GET', '/%C3%BCn%C3%AF');
    const head = await h2(server.url, 'HEAD', '/%C3%BCn%C3%AF');
    expect(get.body.toString('utf8')).toBe('héllo /ünï — ✓ 🚢');
    expect(get.headers['content-length']).toBe(String(get.body.length));
    expect(head.headers['content-length']).toBe(String(get.body.length));
    expect(head.body.length).toBe(0);
  });

  it('a 204 with a configured body carries no Content-Length (RFC 9110 §8.6)', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ statusCode: 204, body: 'ignored' })] }] });
    const head = await h1(server.url, 'HEAD', '/');
    expect(head.headers['content-length']).toBeUndefined();
  });

  it('a 200 with a body to CONNECT carries no Content-Length: it opens a tunnel (RFC 9110 §9.3.6)', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ body: 'tunnel' })] }] });
    const raw = await rawExchange(server.url, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.toLowerCase()).not.toContain('content-length');
  });
});

describe('static_response sends a fixed body and its head byte for byte', () => {
  // A fixed ASCII body goes to end() as latin1 (the same bytes, and the head joined to it needs no
  // look for bytes past ASCII); a fixed body past ASCII stays UTF-8. A head field holding a
  // decoded path ("é", one Latin-1 character) must leave as that one byte either way.
  it.each([
    ['an ASCII body', 'ok'],
    ['a body past ASCII', 'café ✓'],
  ])('HTTP/1.1: %s beside a head field past ASCII', async (_kind, body) => {
    const server = await serve({
      routes: [{ handle: [staticResponse({ headers: { 'X-Path': ['{http.request.uri.path}'] }, body })] }],
    });
    const got = await h1(server.url, 'GET', '/%C3%A9');
    expect(got.headers['x-path']).toBe('/\u00e9');
    expect(got.body.toString('utf8')).toBe(body);
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });
});
