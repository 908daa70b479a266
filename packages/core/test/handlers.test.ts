import { Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError, HttpError, error, headers, metrics, path, staticResponse, vars, type Middleware } from '../src/index.js';
import { Registry as MetricsRegistry } from 'prom-client';
import { bodyOf, outcomeOf, send, useServers } from './helpers/http.js';
import { deferred } from '@ferry/test-kit/lifecycle';

const serve = useServers();

/** A middleware that sets response headers before the handlers after it. */
const preset =
  (fields: Record<string, string>): Middleware =>
  async (req, res, next) => {
    for (const [k, v] of Object.entries(fields)) res.setHeader(k, v);
    await next(req, res);
  };

/** The response header names a client received, lower-cased, minus the ones Node always adds. */
const fieldNames = (h: Record<string, unknown>) =>
  Object.keys(h)
    .filter((n) => !['date', 'connection', 'content-length', 'content-type', 'keep-alive', 'transfer-encoding'].includes(n))
    .sort();

describe('static_response', () => {
  it('status_code as a number sets the status', async () => {
    const server = await serve({ routes: [{ handle: [{ handler: 'static_response', status_code: 201, body: 'made' }] }] });
    const res = await send(server.url, '/');
    expect(res.status).toBe(201);
    expect(res.body).toBe('made');
  });

  it('status_code as a placeholder string is rendered per request', async () => {
    const server = await serve({ routes: [{ handle: [{ handler: 'static_response', status_code: '{http.request.uri.query.code}' }] }] });
    expect((await send(server.url, '/?code=404')).status).toBe(404);
    expect((await send(server.url, '/?code=302')).status).toBe(302);
  });

  it('a literal status_code string that is not a status is a config error', async () => {
    const err = await serve({ routes: [{ handle: [{ handler: 'static_response', status_code: 'teapot' }] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['routes[0].handle[0]']);
  });

  it('headers are set with their placeholders rendered, several values included', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            staticResponse({
              headers: { 'X-Method': ['{http.request.method}'], 'X-Multi': ['a', 'b-{http.request.uri.path}'] },
              body: 'x',
            }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/p', { method: 'PATCH' });
    expect(res.headers['x-method']).toBe('PATCH');
    expect(res.headers['x-multi']).toBe('a, b-/p');
  });

  it('the body has its placeholders rendered', async () => {
    const server = await serve({
      routes: [{ handle: [staticResponse({ body: 'hello {http.request.uri.query.name} via {http.request.method}' })] }],
    });
    expect(await bodyOf(server.url, '/?name=ferry')).toBe('hello ferry via GET');
  });

  it('a body without a Content-Type is sent as text/plain; charset=utf-8', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ body: '<html>not sniffed</html>' })] }] });
    expect((await send(server.url, '/')).headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('a Content-Type given in headers wins over the default', async () => {
    const server = await serve({
      routes: [{ handle: [staticResponse({ headers: { 'Content-Type': ['application/json'] }, body: '{"a":1}' })] }],
    });
    const res = await send(server.url, '/');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe('{"a":1}');
  });

  it('close: true sends Connection: close over HTTP/1.1 even to a keep-alive client', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const server = await serve({
        routes: [
          { match: [path('/close')], handle: [staticResponse({ body: 'bye', close: true })], terminal: true },
          { handle: [staticResponse({ body: 'stay' })] },
        ],
      });
      expect((await send(server.url, '/stay', { agent })).headers.connection).toBe('keep-alive');
      const res = await send(server.url, '/close', { agent });
      expect(res.headers.connection).toBe('close');
      expect(res.body).toBe('bye');
    } finally {
      agent.destroy();
    }
  });

  it('abort: true drops the connection without a response', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ abort: true })] }] });
    const res = await outcomeOf(server.url, '/');
    expect(res.outcome).toBe('reset');
    expect(res.status).toBeUndefined();
  });
});

describe('headers: request operations', () => {
  const echo = staticResponse({ body: '[{http.request.header.X-A}] [{http.request.header.X-B}]' });

  it('set replaces a request field for the handlers after it', async () => {
    const server = await serve({ routes: [{ handle: [headers({ request: { set: { 'X-A': ['set-{http.request.method}'] } } }), echo] }] });
    expect(await bodyOf(server.url, '/', { headers: { 'x-a': 'original' } })).toBe('[set-GET] []');
  });

  it('add appends a value to a request field', async () => {
    const server = await serve({ routes: [{ handle: [headers({ request: { add: { 'X-A': ['two'] } } }), echo] }] });
    expect(await bodyOf(server.url, '/', { headers: { 'x-a': 'one' } })).toBe('[one,two] []');
  });

  it('delete removes request fields, by name or by wildcard', async () => {
    const server = await serve({ routes: [{ handle: [headers({ request: { delete: ['x-a', 'X-B*'] } }), echo] }] });
    expect(await bodyOf(server.url, '/', { headers: { 'x-a': '1', 'x-b-extra': '2', 'x-b': '3' } })).toBe('[] []');
  });

  it('replace rewrites part of a request field', async () => {
    const server = await serve({
      routes: [{ handle: [headers({ request: { replace: { 'X-A': [{ search: 'secret', replace: '***' }] } } }), echo] }],
    });
    expect(await bodyOf(server.url, '/', { headers: { 'x-a': 'my secret, your secret' } })).toBe('[my ***, your ***] []');
  });
});

describe('headers: response operations', () => {
  it('set and add change the response fields', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-Added': 'zero', 'X-Set': 'old' }),
            headers({ response: { set: { 'X-Set': ['new'] }, add: { 'X-Added': ['one', 'two'] } } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-set']).toBe('new');
    expect(res.headers['x-added']).toBe('zero, one, two');
  });

  it('delete with a trailing * removes every field with that prefix', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-One': '1', 'X-Two': '2', 'Y-Keep': '3' }),
            headers({ response: { delete: ['X-*'] } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    expect(fieldNames((await send(server.url, '/')).headers)).toEqual(['y-keep']);
  });

  it('delete with a leading * removes every field with that suffix', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'A-Secret': '1', 'B-Secret': '2', 'Secret-Keep': '3' }),
            headers({ response: { delete: ['*-secret'] } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    expect(fieldNames((await send(server.url, '/')).headers)).toEqual(['secret-keep']);
  });

  it('delete with * at both ends removes every field containing the text', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-Debug-Info': '1', Debug: '2', 'X-Keep': '3' }),
            headers({ response: { delete: ['*debug*'] } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    expect(fieldNames((await send(server.url, '/')).headers)).toEqual(['x-keep']);
  });

  it('delete of * clears the fields before set and add apply, as in Caddy', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-Old': '1' }),
            headers({ response: { delete: ['*'], set: { 'X-New': ['kept'] }, add: { 'X-Added': ['kept'] } } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(fieldNames(res.headers)).toEqual(['x-added', 'x-new']);
  });

  it('replace with search rewrites every occurrence', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-Greeting': 'hello world, world' }),
            headers({ response: { replace: { 'X-Greeting': [{ search: 'world', replace: 'there' }] } } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/')).headers['x-greeting']).toBe('hello there, there');
  });

  it('replace with search_regexp substitutes capture groups', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-Pair': 'left-right' }),
            headers({ response: { replace: { 'X-Pair': [{ searchRegexp: '^(\\w+)-(\\w+)$', replace: '$2-$1' }] } } }),
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/')).headers['x-pair']).toBe('right-left');
  });

  it('replace needs exactly one of search and search_regexp', async () => {
    const err = await serve({ routes: [{ handle: [{ handler: 'headers', response: { replace: { 'X-A': [{ replace: 'b' }] } } }] }] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]!.path).toMatch(/^routes\[0\]\.handle\[0\]\.response\.replace/);
  });

  it('without deferred, response operations apply before the handlers after them', async () => {
    const server = await serve({
      routes: [
        { handle: [headers({ response: { delete: ['X-Later'] } }), staticResponse({ headers: { 'X-Later': ['present'] }, body: 'x' })] },
      ],
    });
    expect((await send(server.url, '/')).headers['x-later']).toBe('present');
  });

  it('deferred: true applies the operations to the fields the later handler set', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            headers({ response: { deferred: true, delete: ['X-Later'], replace: { 'X-Version': [{ search: '1', replace: '2' }] } } }),
            staticResponse({ headers: { 'X-Later': ['present'], 'X-Version': ['v1'] }, body: 'x' }),
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.headers['x-later']).toBeUndefined();
    expect(res.headers['x-version']).toBe('v2');
  });

  it('require.status_code applies the operations only to responses with a listed status', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            headers({ response: { require: { statusCode: [404] }, set: { 'X-Not-Found': ['yes'] } } }),
            staticResponse({ statusCode: '{http.request.uri.query.code}', body: 'x' }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/?code=404')).headers['x-not-found']).toBe('yes');
    expect((await send(server.url, '/?code=200')).headers['x-not-found']).toBeUndefined();
  });

  it('a one-digit require.status_code matches its whole class', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            headers({ response: { require: { statusCode: [5] }, set: { 'X-Server-Error': ['yes'] } } }),
            staticResponse({ statusCode: '{http.request.uri.query.code}' }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/?code=503')).headers['x-server-error']).toBe('yes');
    expect((await send(server.url, '/?code=404')).headers['x-server-error']).toBeUndefined();
  });

  it('require.headers applies the operations only when a response field has a listed value', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            headers({ response: { require: { headers: { 'Content-Type': ['text/plain; charset=utf-8'] } }, set: { 'X-Text': ['yes'] } } }),
            staticResponse({ headers: { 'Content-Type': ['{http.request.uri.query.type}'] }, body: 'x' }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/?type=text/plain;%20charset=utf-8')).headers['x-text']).toBe('yes');
    expect((await send(server.url, '/?type=application/json')).headers['x-text']).toBeUndefined();
  });

  it('require.headers with null applies the operations only when the field is absent', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            headers({ response: { require: { headers: { 'Cache-Control': null } }, set: { 'Cache-Control': ['no-store'] } } }),
            async (req, res, next) => {
              const cc = req.query.get('cc');
              if (cc) res.setHeader('cache-control', cc);
              await next(req, res);
            },
            staticResponse({ body: 'x' }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/')).headers['cache-control']).toBe('no-store');
    expect((await send(server.url, '/?cc=max-age=60')).headers['cache-control']).toBe('max-age=60');
  });
});

describe('error handler', () => {
  it('its status and message reach the error routes', async () => {
    const server = await serve({
      routes: [{ handle: [{ handler: 'error', status_code: 403, error: 'no entry to {http.request.uri.path}' }] }],
      errors: {
        routes: [
          {
            handle: [
              {
                handler: 'static_response',
                status_code: '{http.error.status_code}',
                body: '{http.error.status_code}: {http.error.message}',
              },
            ],
          },
        ],
      },
    });
    const res = await send(server.url, '/vault');
    expect(res.status).toBe(403);
    expect(res.body).toBe('403: no entry to /vault');
  });

  it('its status_code may be a placeholder', async () => {
    const server = await serve({
      routes: [{ handle: [error({ statusCode: '{http.request.uri.query.s}', error: 'chosen' })] }],
      errors: { routes: [{ handle: [staticResponse({ statusCode: '{http.error.status_code}', body: '{http.error.message}' })] }] },
    });
    const res = await send(server.url, '/?s=429');
    expect(res.status).toBe(429);
    expect(res.body).toBe('chosen');
  });

  it('without a status_code it raises a 500', async () => {
    const server = await serve({
      routes: [{ handle: [error({ error: 'broken' })] }],
      errors: {
        routes: [
          { handle: [staticResponse({ statusCode: '{http.error.status_code}', body: '{http.error.status_code} {http.error.message}' })] },
        ],
      },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(500);
    expect(res.body).toBe('500 broken');
  });

  it('without error routes, a 4xx error answers with its status and message', async () => {
    const server = await serve({ routes: [{ handle: [error({ statusCode: 403, error: 'denied' })] }] });
    const res = await send(server.url, '/');
    expect(res.status).toBe(403);
    expect(res.body).toContain('denied');
  });
});

describe('vars', () => {
  it('sets variables read by {http.vars.NAME}, placeholders in values rendered', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            vars({ who: 'world', n: 3, how: '{http.request.method}' }),
            staticResponse({ body: 'hello {http.vars.who} {http.vars.n} {http.vars.how} [{http.vars.missing}]' }),
          ],
        },
      ],
    });
    expect(await bodyOf(server.url, '/', { method: 'POST' })).toBe('hello world 3 POST []');
  });

  it('a later vars handler overrides an earlier value', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            { handler: 'vars', v: 'first' },
            { handler: 'vars', v: 'second' },
            { handler: 'static_response', body: '{http.vars.v}' },
          ],
        },
      ],
    });
    expect(await bodyOf(server.url, '/')).toBe('second');
  });
});

describe('metrics', () => {
  it('serves the Prometheus text exposition with the request counter when requestMetrics is on', async () => {
    const server = await serve({ requestMetrics: true, routes: [{ match: [path('/metrics')], handle: [metrics()] }] });
    const res = await send(server.url, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
    expect(res.body).toContain('# TYPE ferry_http_requests_total counter');
  });

  it('counts a finished request by server, method and status code', async () => {
    const counted = deferred<void>();
    const server = await serve({
      requestMetrics: true,
      routes: [
        { match: [path('/metrics')], handle: [metrics()], terminal: true },
        {
          handle: [
            async (req, res, next) => {
              // The server's own 'close' listener (which counts) was added first, so it has run when this one does.
              res.once('close', () => counted.resolve());
              await next(req, res);
            },
            staticResponse({ statusCode: 418, body: 'x' }),
          ],
        },
      ],
    });
    await send(server.url, '/tea', { method: 'POST' });
    await counted.promise;
    const text = (await send(server.url, '/metrics')).body;
    expect(text).toMatch(/^ferry_http_requests_total\{server="default",method="POST",code="418"\} 1$/m);
  });

  it('a server whose registry no metrics handler serves, without requestMetrics, records no request metrics', async () => {
    const registry = new MetricsRegistry();
    const server = await serve({ metrics: registry, routes: [{ handle: [staticResponse({ body: 'ok' })] }] });
    expect(await bodyOf(server.url, '/')).toBe('ok');
    expect(registry.getSingleMetric('ferry_http_requests_total')).toBeUndefined();
    expect((await registry.metrics()).trim()).toBe('');
  });

  it('outside ferry workers, scope "all" and "process" both serve this process', async () => {
    const server = await serve({
      requestMetrics: true,
      routes: [{ match: [path('/own')], handle: [metrics({ scope: 'process' })], terminal: true }, { handle: [metrics()] }],
    });
    for (const url of ['/own', '/']) {
      const res = await send(server.url, url);
      expect(res.status).toBe(200);
      expect(res.body).toContain('# TYPE ferry_http_requests_total counter');
    }
  });
});

describe('errors thrown by handlers', () => {
  it('an HttpError without error routes answers with its status and short message', async () => {
    const server = await serve({
      handler: async () => {
        throw new HttpError(418, 'short');
      },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(418);
    expect(res.body).toContain('short');
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('a plain Error answers 500 without leaking its message or stack', async () => {
    const server = await serve({
      handler: async () => {
        throw new Error('database password is hunter2');
      },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toMatch(/\bat\s.*\.(ts|js):\d+/);
    expect(res.body.length).toBeLessThan(100);
  });

  it("a 5xx HttpError's message is not shown to the client", async () => {
    const server = await serve({
      handler: async () => {
        throw new HttpError(503, 'replica db-7 is down');
      },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('db-7');
  });

  it('headers set before the error do not leak into the error response', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            preset({ 'X-Session': 'abc' }),
            async () => {
              throw new HttpError(400, 'bad');
            },
          ],
        },
      ],
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(400);
    expect(res.headers['x-session']).toBeUndefined();
  });

  it('error routes receive the status and message of a thrown HttpError', async () => {
    const server = await serve({
      handler: [
        async () => {
          throw new HttpError(404, 'gone fishing');
        },
      ],
      errors: {
        routes: [
          {
            handle: [
              staticResponse({ statusCode: '{http.error.status_code}', body: 'caught {http.error.status_code} {http.error.message}' }),
            ],
          },
        ],
      },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(404);
    expect(res.body).toBe('caught 404 gone fishing');
  });

  it('error routes see a plain Error as a 500', async () => {
    const server = await serve({
      handler: [
        async () => {
          throw new TypeError('oops');
        },
      ],
      errors: {
        routes: [{ handle: [staticResponse({ statusCode: '{http.error.status_code}', body: 'caught {http.error.status_code}' })] }],
      },
    });
    const res = await send(server.url, '/');
    expect(res.status).toBe(500);
    expect(res.body).toBe('caught 500');
  });

  it('error routes that answer nothing still send the error status, as Caddy does', async () => {
    // Caddy's error routes end in errorEmptyHandler, which writes the error's status code.
    const server = await serve({
      handler: [
        async () => {
          throw new HttpError(418, 'short');
        },
      ],
      errors: { routes: [{ match: [path('/only-here')], handle: [staticResponse({ body: 'special' })] }] },
    });
    const res = await send(server.url, '/elsewhere');
    expect(res.status).toBe(418);
  });

  it('an error thrown after the response started aborts it instead of ending it cleanly', async () => {
    const server = await serve({
      handler: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        res.flush();
        throw new Error('mid-body failure');
      },
    });
    const res = await outcomeOf(server.url, '/');
    expect(res.status).toBe(200);
    expect(res.outcome).toBe('reset');
  });
});
