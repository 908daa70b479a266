import { describe, expect, it } from 'vitest';
import { ResponseWriterWrapper, error, headers, method, path, staticResponse, subroute, vars, type Middleware } from '../src/index.js';
import { bodyOf, send, useServers } from './helpers/http.js';
import { deferred } from '@ferry/test-kit/lifecycle';

const serve = useServers();

/** A middleware that sets a response header and continues. */
const mark =
  (name: string, value = '1'): Middleware =>
  async (req, res, next) => {
    res.setHeader(name, value);
    await next(req, res);
  };

describe('matcher sets', () => {
  it('a route matches when any one of its matcher sets matches', async () => {
    const server = await serve({
      routes: [{ match: [{ path: ['/a'] }, { path: ['/b'] }], handle: [staticResponse({ body: 'hit' })] }],
    });
    expect(await bodyOf(server.url, '/a')).toBe('hit');
    expect(await bodyOf(server.url, '/b')).toBe('hit');
    expect(await bodyOf(server.url, '/c')).toBe('');
  });

  it('a route matches only when every matcher inside one set matches', async () => {
    const server = await serve({
      routes: [{ match: [{ path: ['/a'], method: ['POST'] }], handle: [staticResponse({ body: 'hit' })] }],
    });
    expect(await bodyOf(server.url, '/a', { method: 'POST' })).toBe('hit');
    expect(await bodyOf(server.url, '/a', { method: 'GET' })).toBe('');
    expect(await bodyOf(server.url, '/b', { method: 'POST' })).toBe('');
  });

  it('an array of code matchers is one set whose matchers are ANDed', async () => {
    const server = await serve({
      routes: [{ match: [[path('/a'), method('POST')], path('/b')], handle: [staticResponse({ body: 'hit' })] }],
    });
    expect(await bodyOf(server.url, '/a', { method: 'POST' })).toBe('hit');
    expect(await bodyOf(server.url, '/a', { method: 'GET' })).toBe('');
    expect(await bodyOf(server.url, '/b', { method: 'GET' })).toBe('hit');
  });

  it('a predicate function is a matcher', async () => {
    const server = await serve({
      routes: [{ match: [(req) => req.headers['x-beta'] === 'on'], handle: [staticResponse({ body: 'beta' })] }],
    });
    expect(await bodyOf(server.url, '/', { headers: { 'x-beta': 'on' } })).toBe('beta');
    expect(await bodyOf(server.url, '/')).toBe('');
  });

  it('an empty matcher set matches every request', async () => {
    const server = await serve({ routes: [{ match: [{}], handle: [staticResponse({ body: 'all' })] }] });
    expect(await bodyOf(server.url, '/anything')).toBe('all');
  });
});

describe('route composition', () => {
  it('non-terminal routes all run, in order', async () => {
    const server = await serve({
      routes: [
        { handle: [{ handler: 'headers', response: { set: { 'X-First': ['1'] } } }] },
        { match: [{ path: ['/b'] }], handle: [{ handler: 'headers', response: { set: { 'X-Second': ['2'] } } }] },
        { handle: [{ handler: 'static_response', body: 'last' }] },
      ],
    });
    const res = await send(server.url, '/b');
    expect(res.headers['x-first']).toBe('1');
    expect(res.headers['x-second']).toBe('2');
    expect(res.body).toBe('last');
  });

  it('a terminal route stops the routes after it', async () => {
    const server = await serve({
      routes: [
        { match: [{ path: ['/stop'] }], handle: [{ handler: 'headers', response: { set: { 'X-Stopped': ['yes'] } } }], terminal: true },
        { handle: [staticResponse({ body: 'after' })] },
      ],
    });
    const stopped = await send(server.url, '/stop');
    expect(stopped.headers['x-stopped']).toBe('yes');
    expect(stopped.body).toBe('');
    expect(await bodyOf(server.url, '/go')).toBe('after');
  });

  it('a terminal route that does not match does not stop anything', async () => {
    const server = await serve({
      routes: [
        { match: [{ path: ['/stop'] }], handle: [mark('x-stopped')], terminal: true },
        { handle: [staticResponse({ body: 'after' })] },
      ],
    });
    expect(await bodyOf(server.url, '/other')).toBe('after');
  });

  it('only the first matching route of a group runs', async () => {
    const server = await serve({
      routes: [
        { group: 'g', match: [{ path: ['/a*'] }], handle: [vars({ who: 'first' })] },
        { group: 'g', handle: [vars({ who: 'second' })] },
        { handle: [staticResponse({ body: '{http.vars.who}' })] },
      ],
    });
    expect(await bodyOf(server.url, '/abc')).toBe('first');
    expect(await bodyOf(server.url, '/xyz')).toBe('second');
  });

  it('routes in different groups do not exclude each other', async () => {
    const server = await serve({
      routes: [
        { group: 'g1', handle: [mark('x-g1')] },
        { group: 'g2', handle: [mark('x-g2')] },
        { group: 'g1', handle: [mark('x-g1-again')] },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-g1']).toBe('1');
    expect(res.headers['x-g2']).toBe('1');
    expect(res.headers['x-g1-again']).toBeUndefined();
  });
});

describe('subroute', () => {
  it('runs its nested routes and then continues with the routes after it', async () => {
    const server = await serve({
      routes: [
        {
          match: [path('/api/*')],
          handle: [subroute({ routes: [{ match: [path('/api/v1/*')], handle: [mark('x-v1')] }, { handle: [mark('x-api')] }] })],
        },
        { handle: [staticResponse({ body: 'done' })] },
      ],
    });
    const res = await send(server.url, '/api/v1/x');
    expect(res.headers['x-v1']).toBe('1');
    expect(res.headers['x-api']).toBe('1');
    expect(res.body).toBe('done');
  });

  it('a terminal route inside a subroute ends the whole chain, as in Caddy', async () => {
    // Caddy's wrapRoute: a terminal route's `next` is the empty handler, not the parent's rest.
    const server = await serve({
      routes: [
        { handle: [subroute({ routes: [{ handle: [mark('x-sub')], terminal: true }, { handle: [mark('x-sub-later')] }] })] },
        { handle: [staticResponse({ body: 'parent route after the subroute' })] },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-sub']).toBe('1');
    expect(res.headers['x-sub-later']).toBeUndefined();
    expect(res.body).toBe('');
  });

  it("its own errors.routes handle errors raised inside it, instead of the server's", async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            {
              handler: 'subroute',
              routes: [{ handle: [{ handler: 'error', status_code: 403, error: 'denied' }] }],
              errors: {
                routes: [
                  {
                    handle: [
                      {
                        handler: 'static_response',
                        status_code: '{http.error.status_code}',
                        body: 'sub: {http.error.status_code} {http.error.message}',
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      ],
      errors: { routes: [{ handle: [staticResponse({ statusCode: 500, body: 'server error route' })] }] },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(403);
    expect(res.body).toBe('sub: 403 denied');
  });

  it('an error that its error routes do not answer still sets the error status, as Caddy does', async () => {
    // Caddy compiles a subroute's error routes with errorEmptyHandler as their `next`: it writes the error's status.
    const server = await serve({
      routes: [subrouteRoute(), { handle: [staticResponse({ body: 'parent route' })] }],
    });
    const res = await send(server.url, '/unanswered');
    expect(res.status).toBe(404);
    expect(res.body).toBe('');
  });

  it('errors without its own error routes reach the server error routes', async () => {
    const server = await serve({
      routes: [{ handle: [subroute({ routes: [{ handle: [error({ statusCode: 409, error: 'conflict' })] }] })] }],
      errors: { routes: [{ handle: [staticResponse({ statusCode: '{http.error.status_code}', body: 'server: {http.error.message}' })] }] },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(409);
    expect(res.body).toBe('server: conflict');
  });
});

function subrouteRoute() {
  return {
    handle: [
      subroute({
        routes: [{ handle: [error({ statusCode: 404, error: 'nothing here' })] }],
        errors: { routes: [{ match: [path('/answered')], handle: [staticResponse({ body: 'answered' })] }] },
      }),
    ],
  };
}

describe('middleware functions in handle', () => {
  it('a middleware runs before the handlers after it and sees their result through next', async () => {
    const seen = deferred<number>();
    const server = await serve({
      routes: [
        {
          handle: [
            async (req, res, next) => {
              res.setHeader('x-before', 'yes');
              await next(req, res);
              seen.resolve(res.statusCode);
            },
            staticResponse({ statusCode: 202, body: 'handled' }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-before']).toBe('yes');
    expect(res.body).toBe('handled');
    expect(await seen.promise).toBe(202);
  });

  it('a middleware can pass a ResponseWriterWrapper subclass that changes the body', async () => {
    class Upper extends ResponseWriterWrapper {
      override write(
        chunk: unknown,
        encoding?: BufferEncoding | ((err?: Error | null) => void),
        cb?: (err?: Error | null) => void,
      ): boolean {
        return super.write(String(chunk).toUpperCase(), encoding, cb);
      }
      override end(chunk?: unknown, encoding?: BufferEncoding | (() => void), cb?: () => void): this {
        return super.end(chunk === undefined || typeof chunk === 'function' ? chunk : String(chunk).toUpperCase(), encoding, cb);
      }
    }
    const server = await serve({
      routes: [{ handle: [async (req, res, next) => next(req, new Upper(res)), staticResponse({ body: 'quiet please' })] }],
    });
    expect(await bodyOf(server.url, '/')).toBe('QUIET PLEASE');
  });

  it('a ResponseWriterWrapper forwards headers and status to the writer it wraps', async () => {
    class Passthrough extends ResponseWriterWrapper {}
    const server = await serve({
      routes: [
        {
          handle: [
            async (req, res, next) => next(req, new Passthrough(res)),
            staticResponse({ statusCode: 201, headers: { 'X-Inner': ['v'] }, body: 'x' }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(201);
    expect(res.headers['x-inner']).toBe('v');
    expect(res.body).toBe('x');
  });

  it('a middleware that changes req.url rewrites the request for the routes after it', async () => {
    const server = await serve({
      routes: [
        {
          match: [path('/old/*')],
          handle: [
            async (req, res, next) => {
              req.url = `/new/${req.path.slice(5)}?rewritten=1`;
              await next(req, res);
            },
          ],
        },
        { match: [path('/new/*')], handle: [staticResponse({ body: '{http.request.uri.path} {http.request.uri.query.rewritten}' })] },
      ],
    });
    expect(await bodyOf(server.url, '/old/page')).toBe('/new/page 1');
  });

  it('calling next twice inside a handler list rejects the second call', async () => {
    let calls = 0;
    const server = await serve({
      routes: [
        {
          handle: [
            async (req, res, next) => {
              await next(req, res);
              const second = await next(req, res).then(
                () => 'resolved',
                (e: Error) => e.message,
              );
              res.end(`${second}; next ran ${calls} time(s)`);
            },
            async () => {
              calls++;
            },
          ],
        },
      ],
    });
    expect(await bodyOf(server.url, '/')).toMatch(/^next\(\) called more than once.*; next ran 1 time\(s\)$/);
  });

  it('calling next twice from the last handler of a route rejects the second call', async () => {
    let calls = 0;
    const server = await serve({
      routes: [
        {
          handle: [
            async (req, res, next) => {
              await next(req, res);
              const second = await next(req, res).then(
                () => 'resolved',
                (e: Error) => e.message,
              );
              res.end(`${second}; next ran ${calls} time(s)`);
            },
          ],
        },
        {
          handle: [
            async () => {
              calls++;
            },
          ],
        },
      ],
    });
    expect(await bodyOf(server.url, '/')).toMatch(/^next\(\) called more than once.*; next ran 1 time\(s\)$/);
  });

  it('a chain that returns without writing anything yields an empty 200', async () => {
    const server = await serve({ routes: [{ handle: [async () => {}] }] });
    const res = await send(server.url, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });
});

describe('the handler option of createServer', () => {
  it('a single handler function answers every request', async () => {
    const server = await serve({
      handler: async (req, res) => {
        res.setHeader('content-type', 'text/plain');
        res.end(`${req.method} ${req.path}`);
      },
    });
    expect(await bodyOf(server.url, '/x/y', { method: 'PUT' })).toBe('PUT /x/y');
  });

  it('a list of middlewares runs in order, code and JSON handlers alike', async () => {
    const server = await serve({
      handler: [
        mark('x-code'),
        { handler: 'headers', response: { set: { 'X-Json': ['1'] } } },
        headers({ response: { set: { 'X-Factory': ['1'] } } }),
        staticResponse({ body: 'end' }),
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-code']).toBe('1');
    expect(res.headers['x-json']).toBe('1');
    expect(res.headers['x-factory']).toBe('1');
    expect(res.body).toBe('end');
  });

  it('a single handler function that writes nothing yields an empty 200', async () => {
    const server = await serve({ handler: async () => {} });
    const res = await send(server.url, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });
});
