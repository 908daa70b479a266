import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { request as undiciRequest } from 'undici';
import { describe, expect, it } from 'vitest';
import { ConfigError, type FerryRequest, type Middleware, pattern, route, staticResponse, subroute } from '../src/index.js';
import { NO_PARAMS } from '../src/request.js';
import { h2Get, h2Session } from '@ferry/test-kit/clients';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

/** Answers with the params it got, as JSON (undefined ones as null). */
const echoParams: Middleware = async (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req.params, (_k, v) => (v === undefined ? null : v)));
};

/** Answers with the path it got: what reached "the upstream" behind a block route. */
const passed = staticResponse({ body: 'passed {http.request.uri.path}' });

/** One HTTP/1.1 request with the target written byte for byte. */
async function rawStatus(port: number, target: string): Promise<number> {
  const socket = netConnect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 'latin1'));
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? 0);
}

describe('route patterns and req.params', () => {
  it('gives each client the params of /users/:id, percent-decoded, over HTTP/1.1 (node:http and undici) and h2c', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], routes: [route('/users/:id', echoParams), route('/files/*', echoParams)] });
    const cases: [string, Record<string, string>][] = [
      ['/users/42', { id: '42' }],
      ['/users/caf%C3%A9', { id: 'café' }],
      ['/users/Al%20ice', { id: 'Al ice' }],
      ['/users/a%2Fb', { id: 'a/b' }],
      ['/users/100%25', { id: '100%' }],
      ['/users/%ff', { id: '\uFFFD' }],
      ['/USERS/Bob', { id: 'Bob' }],
      ['/files/a/b%2Fc/d.txt', { 0: 'a/b/c/d.txt' }],
    ];
    const session = await h2Session(server.url);
    try {
      for (const [path, want] of cases) {
        const h1 = await send(server.url, path);
        expect(JSON.parse(h1.body), `node:http ${path}`).toEqual(want);
        const u = await undiciRequest(`${server.url}${path}`);
        expect(await u.body.json(), `undici ${path}`).toEqual(want);
        const h2 = await h2Get(session, path);
        expect(JSON.parse(h2.body.toString()), `h2c ${path}`).toEqual(want);
      }
    } finally {
      session.close();
    }
  });

  it('keeps an encoded slash inside its segment: /users/a%2Fb is one id, never /users/:id/:x', async () => {
    const server = await serve({
      routes: [route('/users/:id/:x', staticResponse({ body: 'two segments' })), route('/users/:id', echoParams)],
    });
    expect((await send(server.url, '/users/a%2Fb')).body).toBe('{"id":"a/b"}');
    expect((await send(server.url, '/users/a/b')).body).toBe('two segments');
  });

  it('gives an optional group that took no part as undefined, the key present', async () => {
    let seen: FerryRequest['params'] | undefined;
    const server = await serve({
      routes: [
        route('/docs{/:page}?', async (req, res) => {
          seen = req.params;
          res.end(String(req.params.page));
        }),
      ],
    });
    expect((await send(server.url, '/docs')).body).toBe('undefined');
    expect(seen !== undefined && 'page' in seen).toBe(true);
    expect((await send(server.url, '/docs/intro')).body).toBe('intro');
  });

  it('fills {http.params.NAME} and {http.params.N} from a config matcher set', async () => {
    const server = await serve({
      routes: [
        {
          match: [{ pattern: ['/users/:id', '/files/*'] }],
          handle: [{ handler: 'static_response', body: 'id={http.params.id} 0={http.params.0} none={http.params.nope}' }],
        },
      ],
    });
    // Known placeholders: nothing to warn about.
    expect(server.warnings).toEqual([]);
    expect((await send(server.url, '/users/a%2Fb')).body).toBe('id=a/b 0= none=');
    expect((await send(server.url, '/files/x/y')).body).toBe('id= 0=x/y none=');
    expect((await send(server.url, '/other')).status).toBe(200);
    expect((await send(server.url, '/other')).body).toBe('');
  });

  it('with a method first, matches only that method; the request goes on to the next route otherwise', async () => {
    const server = await serve({
      routes: [
        route('GET', '/items/:id', async (req, res) => void res.end(`get ${req.params.id}`)),
        route(['PUT', 'PATCH'], '/items/:id', async (req, res) => void res.end(`put ${req.params.id}`)),
        { handle: [staticResponse({ statusCode: 405, body: 'no' })] },
      ],
    });
    expect((await send(server.url, '/items/7')).body).toBe('get 7');
    expect((await send(server.url, '/items/7', { method: 'PATCH' })).body).toBe('put 7');
    expect((await send(server.url, '/items/7', { method: 'POST' })).status).toBe(405);
  });

  it('keeps the params of the last pattern that matched, in a subroute too', async () => {
    const server = await serve({
      routes: [
        {
          match: [pattern('/orgs/:org/*')],
          handle: [subroute({ routes: [route('/orgs/:org/repos/:repo', echoParams)] })],
        },
      ],
    });
    expect((await send(server.url, '/orgs/ferry/repos/core')).body).toBe('{"org":"ferry","repo":"core"}');
  });

  it('costs a request no pattern matched nothing: one shared, frozen, empty record without a prototype', async () => {
    const seen: FerryRequest['params'][] = [];
    const server = await serve({
      routes: [
        {
          handle: [
            async (req, res) => {
              seen.push(req.params);
              res.end();
            },
          ],
        },
      ],
    });
    await send(server.url, '/a');
    await send(server.url, '/b');
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).toBe(NO_PARAMS);
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(Object.getPrototypeOf(seen[0])).toBeNull();
    expect(Object.keys(seen[0]!)).toEqual([]);
  });

  it('refuses a bad pattern at listen() with the JSON path of each one and the reason', async () => {
    const err = await serve({
      routes: [{ handle: [] }, { match: [{ pattern: ['/ok/:id', 'users/:id', '/a/(', 'https://x/y'] }], handle: [] }],
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues.map((i) => i.path)).toEqual([
      'routes[1].match[0].pattern[1]',
      'routes[1].match[0].pattern[2]',
      'routes[1].match[0].pattern[3]',
    ]);
    expect(issues[0]!.message).toMatch(/invalid pattern "users\/:id": .*starts with "\/"/);
    expect(issues[1]!.message).toMatch(/unbalanced regexp group/);
    const code = await serve({ routes: [route('/a/:x/:x', echoParams)] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((code as ConfigError).issues[0]).toEqual({
      path: 'routes[0].match[0][0][0]',
      message: 'invalid pattern "/a/:x/:x": the parameter name "x" is used twice',
    });
  });
});

describe('route patterns under hostile input', () => {
  it('a route blocking /admin/:x is not walked past by any spelling of /admin/x', async () => {
    const server = await serve({
      routes: [
        { match: [pattern('/admin/:x')], handle: [staticResponse({ statusCode: 403, body: 'blocked' })], terminal: true },
        { handle: [passed] },
      ],
    });
    const port = server.addresses[0]!.port;
    const spellings = [
      '/admin/x',
      '/ADMIN/x',
      '/Admin/%78',
      '/%61dmin/x',
      '/%41DMIN/x',
      '/y/../admin/x',
      '/y/%2e%2e/admin/x',
      '/y/%2E%2E/admin/x',
      '/y/.%2e/admin/x',
      '//admin/x',
      '/./admin/x',
      '/%2e/admin/x',
      '/admin//x',
      '/admin/./x',
      '/admin/x/y/..',
      '/admin/x?q=1',
      'http://h/admin/x',
      'http://h/y/../admin/x',
    ];
    for (const target of spellings) expect(await rawStatus(port, target), target).toBe(403);
    // What the pattern does not cover is served: one segment too many, an encoded slash (data, as
    // WHATWG URL and Go's ServeMux read it), a NUL that is part of the segment.
    for (const target of ['/admin/x/y', '/admin%2Fx', '/admin', '/admin%00/x', '/adminx/y'])
      expect(await rawStatus(port, target), target).toBe(200);
  });

  it('a pattern ending in * after the literal fences off a prefix whatever follows, encoded slashes included', async () => {
    const server = await serve({
      routes: [{ match: [pattern('/secret*')], handle: [staticResponse({ statusCode: 403 })], terminal: true }, { handle: [passed] }],
    });
    const port = server.addresses[0]!.port;
    for (const target of ['/secret', '/secret%2Fx', '/SECRET/x', '/%73ecret/../secret/x', '/x/../secret/%2e%2e%2fy', '/secret%00'])
      expect(await rawStatus(port, target), target).toBe(403);
  });

  it('answers overlong paths and paths of thousands of segments in bounded time, against many patterns', async () => {
    const routes = Array.from({ length: 200 }, (_, i) => route(`/r${i}/:a-:b-:c-:d`, echoParams));
    const server = await serve({ routes: [...routes, route('/:a/:b/*', echoParams)] });
    const long = `/r7/${'-'.repeat(12_000)}`;
    const many = `/x/${'s/'.repeat(3000)}end`;
    const started = performance.now();
    expect((await send(server.url, long)).status).toBe(200);
    const deep = JSON.parse((await send(server.url, many)).body);
    expect(deep.a).toBe('x');
    expect(deep['0']).toHaveLength(3000 * 2 + 1);
    expect((await send(server.url, `/r7/a-b-c-${'%41'.repeat(2000)}`)).body).toBe(`{"a":"a","b":"b","c":"c","d":"${'A'.repeat(2000)}"}`);
    // URLPattern's own RegExp takes seconds for a twelfth of the first path.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('takes __proto__ and constructor as param names and values without touching any prototype', async () => {
    const server = await serve({ routes: [route('/p/:__proto__/:constructor', echoParams), route('/v/:id', echoParams)] });
    expect(JSON.parse((await send(server.url, '/p/x/y')).body)).toEqual({ ['__proto__']: 'x', constructor: 'y' });
    expect(JSON.parse((await send(server.url, '/v/__proto__')).body)).toEqual({ id: '__proto__' });
    expect(JSON.parse((await send(server.url, '/v/%5F%5Fproto%5F%5F')).body)).toEqual({ id: '__proto__' });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('x');
  });

  it('gives %00 and other control bytes as they decode, in a param only', async () => {
    const server = await serve({ routes: [route('/users/:id', echoParams)] });
    expect(JSON.parse((await send(server.url, '/users/a%00b')).body)).toEqual({ id: 'a\u0000b' });
    expect(JSON.parse((await send(server.url, '/users/%0d%0aSet-Cookie:x')).body)).toEqual({ id: '\r\nSet-Cookie:x' });
  });
});
