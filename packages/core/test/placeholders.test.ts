import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { error, headerRegexp, parseDuration, pathRegexp, rewrite, staticResponse, vars, type RouteInput } from '../src/index.js';
import { compileTemplate } from '../src/internal.js';
import { send, useServers, type SendOptions } from './helpers/http.js';

const serve = useServers();

/** Serves `template` as a static_response body and returns what a real request renders it to. */
async function render(template: string, path = '/', options: SendOptions = {}, before: RouteInput[] = []): Promise<string> {
  const server = await serve({ routes: [...before, { handle: [staticResponse({ body: template })] }] });
  return (await send(server.url, path, options)).body;
}

describe('request placeholders', () => {
  it('{http.request.method} is the method', async () => {
    expect(await render('{http.request.method}', '/', { method: 'DELETE' })).toBe('DELETE');
  });

  it('{http.request.scheme} is http on a cleartext listener', async () => {
    expect(await render('{http.request.scheme}')).toBe('http');
  });

  it('{http.request.proto} is the protocol as Go names it', async () => {
    expect(await render('{http.request.proto}')).toBe('HTTP/1.1');
  });

  it('{http.request.uri} is the request target, query included', async () => {
    expect(await render('{http.request.uri}', '/a/b?x=1&y=2')).toBe('/a/b?x=1&y=2');
  });

  it('{http.request.uri.path} is the decoded path without the query', async () => {
    expect(await render('{http.request.uri.path}', '/a%20b/c?x=1')).toBe('/a b/c');
  });

  it('{http.request.uri.path.N} is the Nth path segment from the left, empty past the end', async () => {
    expect(
      await render('{http.request.uri.path.0}|{http.request.uri.path.1}|{http.request.uri.path.2}|{http.request.uri.path.9}', '/a/b/c'),
    ).toBe('a|b|c|');
  });

  it('{http.request.uri.query} is the raw query string without the question mark', async () => {
    expect(await render('{http.request.uri.query}', '/p?x=1&y=a%20b')).toBe('x=1&y=a%20b');
  });

  it('{http.request.uri.query.NAME} is the decoded value of a query key, empty when missing', async () => {
    expect(await render('[{http.request.uri.query.y}] [{http.request.uri.query.missing}]', '/p?x=1&y=a%20b')).toBe('[a b] []');
  });

  it('{http.request.host} is the Host without its port', async () => {
    expect(await render('{http.request.host}', '/', { headers: { host: 'www.example.com:8443' } })).toBe('www.example.com');
  });

  it('{http.request.host.labels.N} counts labels from the right, 0 being the rightmost', async () => {
    expect(
      await render(
        '{http.request.host.labels.0}|{http.request.host.labels.1}|{http.request.host.labels.3}|{http.request.host.labels.4}',
        '/',
        {
          headers: { host: 'a.b.example.com:8080' },
        },
      ),
    ).toBe('com|example|a|');
  });

  it('{http.request.port} is the port of the Host', async () => {
    expect(await render('{http.request.port}', '/', { headers: { host: 'example.com:8443' } })).toBe('8443');
  });

  it('{http.request.port} of a real request is the port the client connected to', async () => {
    const server = await serve({ routes: [{ handle: [staticResponse({ body: '{http.request.port}' })] }] });
    expect((await send(server.url, '/')).body).toBe(new URL(server.url).port);
  });

  it('{http.request.header.NAME} is a request field, by case-insensitive name, empty when missing', async () => {
    expect(
      await render('[{http.request.header.X-Custom}] [{http.request.header.x-custom}] [{http.request.header.X-Missing}]', '/', {
        headers: { 'X-CUSTOM': 'v1' },
      }),
    ).toBe('[v1] [v1] []');
  });

  it('{http.request.header.NAME} joins a repeated field with commas', async () => {
    expect(await render('{http.request.header.Accept}', '/', { headers: { accept: ['text/html', 'application/json'] } })).toBe(
      'text/html, application/json',
    );
  });

  it('{http.request.remote.host} and {http.request.remote.port} are the client address', async () => {
    const server = await serve({
      routes: [{ handle: [staticResponse({ body: '{http.request.remote.host} {http.request.remote.port}' })] }],
    });
    const res = await send(server.url, '/');
    expect(res.body).toBe(`127.0.0.1 ${res.localPort}`);
  });

  it('{http.request.remote.host} of an IPv4 client on a dual-stack listener is the plain IPv4 address', async () => {
    const server = await serve({ listen: '[::]:0', routes: [{ handle: [staticResponse({ body: '{http.request.remote.host}' })] }] });
    expect((await send(server.url, '/', { connectHost: '127.0.0.1' })).body).toBe('127.0.0.1');
  });
  it('{http.request.remote} is host:port, an IPv6 host in brackets as Go prints it', async () => {
    const server = await serve({ listen: '[::]:0', routes: [{ handle: [staticResponse({ body: '{http.request.remote}' })] }] });
    const v6 = await send(server.url, '/', { connectHost: '::1' });
    expect(v6.body).toBe(`[::1]:${v6.localPort}`);
    const v4 = await send(server.url, '/', { connectHost: '127.0.0.1' });
    expect(v4.body).toBe(`127.0.0.1:${v4.localPort}`);
  });
});

describe('regexp, vars and error placeholders', () => {
  it('{http.regexp.NAME.N} and {http.regexp.NAME.GROUP} are the captures of a named matcher', async () => {
    expect(
      await render('{http.regexp.img.1}.{http.regexp.img.ext}', '/img/cat.png', {}, [
        { match: [pathRegexp('^/img/(\\w+)\\.(?<ext>\\w+)$', 'img')] },
      ]),
    ).toBe('cat.png');
  });

  it('{http.regexp.N} is a capture of an unnamed matcher', async () => {
    expect(await render('{http.regexp.1}', '/v7/x', {}, [{ match: [pathRegexp('^/v(\\d+)/')] }])).toBe('7');
  });

  it('{http.regexp.N} and {http.regexp.GROUP} are the last regexp matcher that matched, named or not (Caddy >= 2.8)', async () => {
    const before: RouteInput[] = [
      { match: [pathRegexp('^/v(\\d+)/(?<rest>.*)$', 'ver')] },
      { match: [headerRegexp({ 'x-t': { pattern: '^t-(\\w+)$', name: 'tok' } })] },
    ];
    const t = '{http.regexp.1}|{http.regexp.ver.1}|{http.regexp.rest}|{http.regexp.tok.1}';
    // Both matched: the unnamed form is the header's, which ran last; the path's own stay under its name.
    expect(await render(t, '/v7/x', { headers: { 'x-t': 't-abc' } }, before)).toBe('abc|7|x|abc');
    // Only the path matched: the unnamed form is the path's.
    expect(await render('{http.regexp.1}|{http.regexp.ver.1}', '/v7/x', {}, before)).toBe('7|7');
  });

  it("a regexp placeholder no matcher set stays as written in a static_response body (Caddy's ReplaceKnown)", async () => {
    expect(await render('[{http.regexp.1}] [{http.regexp.nope.1}]', '/x')).toBe('[{http.regexp.1}] [{http.regexp.nope.1}]');
  });

  it("a rewrite renders a regexp placeholder with no value as nothing (Caddy's ReplaceAll)", async () => {
    expect(await render('{http.request.uri}', '/x', {}, [{ handle: [rewrite({ uri: '/a{http.regexp.1}b' })] }])).toBe('/ab');
  });

  it('{http.vars.NAME} is a request variable, empty when unset', async () => {
    expect(await render('[{http.vars.color}] [{http.vars.none}]', '/', {}, [{ handle: [vars({ color: 'teal' })] }])).toBe('[teal] []');
  });

  it('{http.error.status_code} and {http.error.message} describe the error in error routes', async () => {
    const server = await serve({
      routes: [{ handle: [error({ statusCode: 451, error: 'unavailable here' })] }],
      errors: { routes: [{ handle: [staticResponse({ body: '{http.error.status_code}|{http.error.message}' })] }] },
    });
    expect((await send(server.url, '/')).body).toBe('451|unavailable here');
  });

  it("{http.error.*} have no value outside error routes, so a static_response body keeps them as written (Caddy's ReplaceKnown)", async () => {
    expect(await render('[{http.error.status_code}][{http.error.message}]')).toBe('[{http.error.status_code}][{http.error.message}]');
  });
});

describe('static placeholders', () => {
  afterEach(() => {
    delete process.env.FERRY_PLACEHOLDER_TEST;
  });

  it('{env.NAME} is an environment variable, empty when unset', async () => {
    process.env.FERRY_PLACEHOLDER_TEST = 'from-env';
    expect(await render('[{env.FERRY_PLACEHOLDER_TEST}] [{env.FERRY_PLACEHOLDER_TEST_UNSET}]')).toBe('[from-env] []');
  });

  it('{system.hostname} is the machine host name', async () => {
    expect(await render('{system.hostname}')).toBe(hostname());
  });

  it('{system.pid} is the id of the process that serves the request', async () => {
    expect(await render('{system.pid}')).toBe(String(process.pid));
  });
});

describe('template syntax', () => {
  it('many placeholders render together in one body', async () => {
    process.env.FERRY_PLACEHOLDER_TEST = 'E';
    try {
      const body = await render(
        'm={http.request.method} s={http.request.scheme} p={http.request.proto} u={http.request.uri} h={http.request.host} q={http.request.uri.query.k} e={env.FERRY_PLACEHOLDER_TEST} v={http.vars.x}',
        '/path?k=v',
        { method: 'POST', headers: { host: 'example.com' } },
        [{ handle: [vars({ x: 'X' })] }],
      );
      expect(body).toBe('m=POST s=http p=HTTP/1.1 u=/path?k=v h=example.com q=v e=E v=X');
    } finally {
      delete process.env.FERRY_PLACEHOLDER_TEST;
    }
  });

  it('an unknown placeholder stays as written', async () => {
    expect(await render('{foo.bar} {http.request.nope} {http.vars.ok}')).toBe('{foo.bar} {http.request.nope} ');
  });

  it('JSON-looking text stays literal', async () => {
    expect(await render('{"a":1,"b":{"c":[{http.request.method}]}}')).toBe('{"a":1,"b":{"c":[GET]}}');
  });

  it('a backslash escapes a brace', async () => {
    expect(await render('\\{http.request.method\\} {http.request.method}')).toBe('{http.request.method} GET');
  });

  it('an unclosed brace is literal', async () => {
    expect(await render('{http.request.method')).toBe('{http.request.method');
  });

  it('an unknown placeholder in a config is reported as a warning at its JSON path', async () => {
    const server = await serve({ routes: [{ handle: [{ handler: 'static_response', body: 'x {http.reqest.method}' }] }] });
    expect(server.warnings).toEqual([{ path: 'routes[0].handle[0].body', message: expect.stringContaining('{http.reqest.method}') }]);
  });
});

describe('compileTemplate', () => {
  it('lists the unknown placeholders it found', () => {
    expect(compileTemplate('a {foo} {http.request.method} {http.nope} {env.X} {"json":1}').unknown).toEqual(['foo', 'http.nope']);
  });

  it('lists no unknown placeholders for a template of known ones', () => {
    expect(compileTemplate('{http.request.header.X-Y} {http.regexp.1} {http.vars.a}').unknown).toEqual([]);
  });

  it('a template without placeholders is static', () => {
    const t = compileTemplate('just text {with braces}');
    expect(t.isStatic).toBe(true);
    expect(t.render(undefined as never)).toBe('just text {with braces}');
  });

  it('a template with a request placeholder is not static', () => {
    expect(compileTemplate('{http.request.uri}').isStatic).toBe(false);
  });
});

describe('parseDuration', () => {
  it('parses combined units: "1m30s" is 90000 ms', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
  });

  it('parses milliseconds: "250ms" is 250', () => {
    expect(parseDuration('250ms')).toBe(250);
  });

  it('parses fractions: "1.5h" is 5400000 ms', () => {
    expect(parseDuration('1.5h')).toBe(5_400_000);
  });

  it('parses sub-millisecond units', () => {
    expect(parseDuration('1500us')).toBe(1.5);
    expect(parseDuration('2000000ns')).toBe(2);
  });

  it('parses Caddy\'s day unit: "1d" is 86400000 ms', () => {
    expect(parseDuration('1d')).toBe(86_400_000);
  });

  it('reads an integer number as nanoseconds: 1500000000 is 1500 ms', () => {
    expect(parseDuration(1_500_000_000)).toBe(1500);
  });

  it('accepts "0" without a unit, as Go does', () => {
    expect(parseDuration('0')).toBe(0);
  });

  it('parses a negative duration', () => {
    expect(parseDuration('-1.5s')).toBe(-1500);
  });

  it.each(['', 'soon', '5 parsecs', '1m30', 'ms', '1.5.2s', '10', '1h-5m', 's1'])('rejects the invalid string %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });

  it('rejects a non-integer number', () => {
    expect(() => parseDuration(1.5)).toThrow(/integer nanoseconds/);
  });
});
