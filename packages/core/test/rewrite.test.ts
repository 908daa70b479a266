import { describe, expect, it } from 'vitest';
import { ConfigError, DONE, loadConfig, path, rewrite, silentLogger, staticResponse, type Handler, type RouteInput } from '../src/index.js';
import { rawClient } from './helpers/raw.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

/** What the handler after the rewrite saw. */
interface Seen {
  url: string;
  method: string;
  path: string;
  originalUrl: string;
  originalMethod: string;
}

const echo: Handler = (req, res) => {
  const seen: Seen = { url: req.url, method: req.method, path: req.path, originalUrl: req.originalUrl, originalMethod: req.originalMethod };
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(seen));
  return DONE;
};

/** Sends `target` through `{ handler: 'rewrite', ...cfg }` (Caddy's JSON) and returns what the next handler saw. */
async function rewritten(
  cfg: Record<string, unknown>,
  target: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<Seen> {
  const server = await serve({ routes: [{ handle: [{ handler: 'rewrite', ...cfg }, echo] }] });
  const reply = await send(server.url, target, { method, headers });
  expect(reply.status).toBe(200);
  return JSON.parse(reply.body) as Seen;
}

const urlAfter = async (cfg: Record<string, unknown>, target: string) => (await rewritten(cfg, target)).url;

describe('rewrite: uri', () => {
  it('a path-only uri changes the path and keeps the query', async () => {
    expect(await urlAfter({ uri: '/new' }, '/old?a=1&b=2')).toBe('/new?a=1&b=2');
  });

  it('a uri with a query replaces the query', async () => {
    expect(await urlAfter({ uri: '/new?b=2' }, '/old?a=1')).toBe('/new?b=2');
  });

  it('a query-only uri keeps the path', async () => {
    expect(await urlAfter({ uri: '?x=1' }, '/keep?a=1')).toBe('/keep?x=1');
  });

  it('"?" alone clears the query', async () => {
    expect(await urlAfter({ uri: '?' }, '/p?a=1')).toBe('/p');
  });

  it('?{http.request.uri.query}&x=1 keeps the query and appends to it, never overwriting a key', async () => {
    expect(await urlAfter({ uri: '?{http.request.uri.query}&a=3' }, '/p?a=1&b=2')).toBe('/p?a=1&b=2&a=3');
    expect(await urlAfter({ uri: '/q?{http.request.uri.query}&x=1' }, '/p')).toBe('/q?x=1');
  });

  it('placeholder values in the query are escaped, so they cannot add pairs', async () => {
    // term is `a&b=c d`: one value, not three pairs.
    expect(await urlAfter({ uri: '/search?q={http.request.uri.query.term}' }, '/s?term=a%26b%3Dc%20d')).toBe('/search?q=a%26b%3Dc+d');
  });

  it('{http.request.uri.path} goes into the path escaped, so its ? stays data', async () => {
    expect(await urlAfter({ uri: '/static{http.request.uri.path}.html' }, '/a%3Fb?x=1')).toBe('/static/a%3Fb.html?x=1');
  });

  it('a ? that a placeholder value brings into the path sets the query when the uri has none', async () => {
    expect(await urlAfter({ uri: '{http.request.uri.query.next}' }, '/login?next=%2Fhome%3Ftab%3D2')).toBe('/home?tab=2');
  });

  it('an injected query does not replace a query the uri gives, unless force_modify_query', async () => {
    const target = '/p?next=%2Fa%3Fevil%3D1';
    expect(await urlAfter({ uri: '{http.request.uri.query.next}?fixed=1' }, target)).toBe('/a?fixed=1');
    expect(await urlAfter({ uri: '{http.request.uri.query.next}?fixed=1', force_modify_query: true }, target)).toBe('/a?evil=1');
  });

  it('placeholder syntax in an injected query is never expanded (GHSA-j8px-rmrx-76h9)', async () => {
    process.env.FERRY_REWRITE_SECRET = 'hunter2';
    const url = await urlAfter({ uri: '{http.request.uri.query.next}' }, '/p?next=%2Fa%3Fk%3D%7Benv.FERRY_REWRITE_SECRET%7D');
    expect(url).toBe('/a?k=%7Benv.FERRY_REWRITE_SECRET%7D');
  });

  it('a fragment is dropped, whether written in the uri or brought by a value', async () => {
    expect(await urlAfter({ uri: '/a#frag' }, '/p?x=1')).toBe('/a?x=1');
    expect(await urlAfter({ uri: '/b/{http.request.uri.query.v}' }, '/p?v=c%23d')).toBe('/b/c?v=c%23d');
  });

  it("an unknown placeholder renders as nothing, as Caddy's rewrite does", async () => {
    expect(await urlAfter({ uri: '/x{nope.nothing}/y' }, '/p')).toBe('/x/y');
  });

  it('a relative or empty path becomes absolute', async () => {
    expect(await urlAfter({ uri: 'index.html' }, '/p')).toBe('/index.html');
    expect(await urlAfter({ uri: '{http.request.uri.query.none}' }, '/p')).toBe('/');
  });
});

describe('rewrite: strip_path_prefix and strip_path_suffix', () => {
  const strip = (target: string, prefix = '/api') => urlAfter({ strip_path_prefix: prefix }, target);

  it('strips the prefix and keeps the query', async () => {
    expect(await strip('/api/users?page=2')).toBe('/users?page=2');
  });

  it('compares case-insensitively, and a prefix without its / gets one', async () => {
    expect(await strip('/API/users')).toBe('/users');
    expect(await strip('/api/users', 'api')).toBe('/users');
  });

  it('strips /api from /apix too, leaving /x (Caddy anchors what is left at /)', async () => {
    expect(await strip('/apix')).toBe('/x');
    expect(await strip('/api')).toBe('/');
  });

  it('leaves a path without the prefix as it was, cleaned', async () => {
    expect(await strip('/other/x?a=1')).toBe('/other/x?a=1');
    expect(await strip('/other/../x')).toBe('/x');
  });

  it('matches an escape in the path against the character it stands for', async () => {
    expect(await strip('/%61pi/x')).toBe('/x');
  });

  it('an escape in the prefix requires the same escape in the path', async () => {
    expect(await strip('/api/x', '/a%70i')).toBe('/api/x');
    expect(await strip('/a%70i/x', '/a%70i')).toBe('/x');
  });

  it('compares with the cleaned path: /api/../admin is /admin, which has no /api to strip', async () => {
    expect(await strip('/api/../admin')).toBe('/admin');
  });

  it('resolves the dot segments a strip exposes: /api%2F..%2Fadmin becomes /admin', async () => {
    expect(await strip('/api%2F..%2Fadmin')).toBe('/admin');
    expect(await strip('/api/%2e%2e/admin')).toBe('/admin');
  });

  it('strips a suffix, escapes compared decoded', async () => {
    const suffix = (target: string) => urlAfter({ strip_path_suffix: '.html' }, target);
    expect(await suffix('/docs/intro.html?v=1')).toBe('/docs/intro?v=1');
    expect(await suffix('/docs/intro.HTML')).toBe('/docs/intro');
    expect(await suffix('/docs/intro%2Ehtml')).toBe('/docs/intro');
    expect(await suffix('/docs/intro.htm')).toBe('/docs/intro.htm');
  });
});

describe('rewrite: uri_substring and path_regexp', () => {
  it('replaces a substring in the path and in the query', async () => {
    expect(await urlAfter({ uri_substring: [{ find: 'old', replace: 'new' }] }, '/old/old?k=old')).toBe('/new/new?k=new');
  });

  it('limit caps the replacements, in the path and the query each', async () => {
    expect(await urlAfter({ uri_substring: [{ find: 'a', replace: 'b', limit: 1 }] }, '/aaa?x=aa')).toBe('/baa?x=ba');
  });

  it('a replacement cannot smuggle ? or \\ into the path', async () => {
    expect(await urlAfter({ uri_substring: [{ find: 'x', replace: '?y\\z' }] }, '/axb')).toBe('/a%3Fy%5Czb');
  });

  it('path_regexp replaces with $N and $name group references', async () => {
    expect(await urlAfter({ path_regexp: [{ find: '^/user/([0-9]+)$', replace: '/u/$1' }] }, '/user/42?x=1')).toBe('/u/42?x=1');
    expect(await urlAfter({ path_regexp: [{ find: '/(?P<n>[a-z]+)\\.php', replace: '/$n.x' }] }, '/index.php')).toBe('/index.x');
  });

  it('in a replacement, ${name} is a placeholder (empty, as in Caddy) but ${1} a group: Ferry reads {1} as text', async () => {
    // `/${n}b` renders as `/$b`: a reference to a group b, which does not exist.
    expect(await urlAfter({ path_regexp: [{ find: '^/(?P<n>a)', replace: '/${n}b' }] }, '/a')).toBe('/');
    expect(await urlAfter({ path_regexp: [{ find: '^/(a)', replace: '/${1}b' }] }, '/a')).toBe('/ab');
  });
});

describe('rewrite: query operations', () => {
  it('applies rename, set, add, replace and delete, in that order, and writes keys sorted', async () => {
    const query = {
      rename: [{ key: 'old', val: 'k' }],
      set: [{ key: 'k', val: 'set' }],
      add: [{ key: 'k', val: 'added' }],
      replace: [{ key: 'k', search: 'set', replace: 'SET' }],
      delete: ['gone'],
    };
    expect(await urlAfter({ query }, '/p?z=1&old=1&gone=2')).toBe('/p?k=SET&k=added&z=1');
  });

  it('replace with search_regexp and a group reference, on every key with *', async () => {
    const query = { replace: [{ key: '*', search_regexp: '([0-9]+)', replace: '<$1>' }] };
    expect(await urlAfter({ query }, '/p?a=x1&b=22')).toBe('/p?a=x%3C1%3E&b=%3C22%3E');
    // Its search and replace keep an unknown {…} as written (Caddy's ReplaceKnown): ${d} is the group.
    const named = { replace: [{ key: 'a', search_regexp: '(?P<d>[0-9]+)', replace: '<${d}>' }] };
    expect(await urlAfter({ query: named }, '/p?a=x1')).toBe('/p?a=x%3C1%3E');
  });

  it('values take placeholders, escaped when written', async () => {
    const query = { set: [{ key: 'from', val: '{http.request.uri.path}' }] };
    expect(await urlAfter({ query }, '/a%20b/c')).toBe('/a%20b/c?from=%2Fa+b%2Fc');
  });

  it('drops pairs with ; or a bad escape, as Go parses a query', async () => {
    expect(await urlAfter({ query: { add: [{ key: 'n', val: '1' }] } }, '/p?a=1;b=2&c=%zz&d=4')).toBe('/p?d=4&n=1');
  });

  it('__proto__ and constructor are keys like any other, and pollute nothing', async () => {
    const query = {
      add: [{ key: '__proto__', val: 'z' }],
      rename: [{ key: 'constructor', val: 'prototype' }],
      set: [{ key: 'toString', val: '1' }],
    };
    expect(await urlAfter({ query }, '/p?__proto__=x&constructor=y')).toBe('/p?__proto__=x&__proto__=z&prototype=y&toString=1');
    expect(({} as Record<string, unknown>).z).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'prototype')).toBe(false);
  });
});

describe('rewrite: method and the original request', () => {
  it('method changes the method, upper-cased, and keeps the original', async () => {
    const seen = await rewritten({ method: 'post' }, '/p');
    expect(seen.method).toBe('POST');
    expect(seen.originalMethod).toBe('GET');
  });

  it('a method rendered from a placeholder that is not a token is a 400, not a request line upstream', async () => {
    const server = await serve({ routes: [{ handle: [{ handler: 'rewrite', method: '{http.request.header.x-m}' }, echo] }] });
    expect((await send(server.url, '/', { headers: { 'x-m': 'GET / HTTP/1.1' } })).status).toBe(400);
    expect(JSON.parse((await send(server.url, '/', { headers: { 'x-m': 'purge' } })).body).method).toBe('PURGE');
  });

  it('{http.request.orig_uri}, .path, .query and {http.request.orig_method} keep what the request came with', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            rewrite({ uri: '/new?b=2', method: 'PUT' }),
            staticResponse({
              body: '{http.request.orig_method} {http.request.orig_uri}|{http.request.orig_uri.path}|{http.request.orig_uri.query}|{http.request.method} {http.request.uri}',
            }),
          ],
        },
      ],
    });
    expect((await send(server.url, '/old%20x?a=1')).body).toBe('GET /old%20x?a=1|/old x|a=1|PUT /new?b=2');
  });

  it('a rewrite that changes nothing leaves the request as it was', async () => {
    const seen = await rewritten({ strip_path_prefix: '/nope' }, '/p?a=1');
    expect(seen.url).toBe('/p?a=1');
    expect(seen.originalUrl).toBe('/p?a=1');
  });

  it('works from code with camelCase options', async () => {
    const server = await serve({
      routes: [{ handle: [rewrite({ stripPathPrefix: '/v1', uriSubstring: [{ find: 'a', replace: 'b' }] }), echo] }],
    });
    expect(JSON.parse((await send(server.url, '/v1/a')).body).url).toBe('/b');
  });
});

describe('rewrite: routes after it', () => {
  it('matchers of later routes see the new path', async () => {
    const server = await serve({
      routes: [
        { handle: [rewrite({ stripPathPrefix: '/v1' })] },
        { match: [path('/users*')], handle: [staticResponse({ body: 'users' })], terminal: true },
        { handle: [staticResponse({ body: 'other' })] },
      ],
    });
    expect((await send(server.url, '/v1/users/7')).body).toBe('users');
    expect((await send(server.url, '/v2/users/7')).body).toBe('other');
  });
});

/** Percent-decodes byte-wise (invalid UTF-8 as U+FFFD), as Go and WHATWG decode a path. */
function decodeBytes(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^%([0-9a-f]{2})/i.exec(s.slice(i, i + 3));
    if (m) {
      bytes.push(Number.parseInt(m[1]!, 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'latin1'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** How backends read a target: WHATWG URL (Node's frameworks) and Go (decode, then clean). */
function backendPaths(url: string): string[] {
  const whatwg = decodeBytes(new URL(`http://upstream${url}`).pathname);
  const segs: string[] = [];
  for (const seg of decodeBytes(url.split('?')[0]!).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segs.pop();
    else segs.push(seg);
  }
  return [whatwg, `/${segs.join('/')}`].map((p) => p.toLowerCase());
}

describe('rewrite: hostile input cannot walk past a later path guard', () => {
  /** A rewrite, then a guard of /admin* (403), then the echo — the shape of a rewrite in front of reverse_proxy. */
  const guarded = (first: RouteInput) =>
    serve({
      routes: [first, { match: [path('/admin*')], handle: [staticResponse({ statusCode: 403 })], terminal: true }, { handle: [echo] }],
    });

  /** Either the guard answered, or no backend reading of what passed is /admin, and the target holds no raw CR, LF, space or \. */
  function assertGuarded(status: number, body: string, label: string): void {
    if (status === 403) return;
    expect(status, label).toBe(200);
    const { url } = JSON.parse(body) as Seen;
    expect(url, label).not.toMatch(/[\r\n \\#]/);
    for (const p of backendPaths(url)) expect(p.startsWith('/admin'), `${label} → ${url} read as ${p}`).toBe(false);
  }

  it('a uri built from a query value: dot segments, escapes, encoded slashes, \\, ?, # and CRLF', async () => {
    const server = await guarded({ handle: [{ handler: 'rewrite', uri: '/{http.request.uri.query.p}' }] });
    const values = [
      '../admin',
      'x/../admin',
      '%2e%2e/admin',
      '.%2e/admin',
      '..%2fadmin',
      'x%2f..%2fadmin',
      '%2fadmin',
      '/admin',
      'ADMIN',
      '%61dmin',
      '%2561dmin',
      'x/..\\admin',
      'x\\..\\admin',
      'admin?x=1',
      'admin#x',
      '%00/../admin',
      'admin\r\nX-Injected: 1',
      '\u00e9/../admin',
    ];
    for (const v of values) {
      const reply = await send(server.url, `/p?p=${encodeURIComponent(v)}`);
      assertGuarded(reply.status, reply.body, v);
    }
    // The plain cases do reach the guard.
    expect((await send(server.url, `/p?p=${encodeURIComponent('../admin')}`)).status).toBe(403);
    expect((await send(server.url, `/p?p=${encodeURIComponent('%2e%2e/admin')}`)).status).toBe(403);
  });

  it('strip_path_prefix on raw targets (raw socket): nothing that reads as /admin passes', async () => {
    const server = await guarded({ handle: [rewrite({ stripPathPrefix: '/api' })] });
    const targets = [
      '/api/admin',
      '/api/../admin',
      '/api/%2e%2e/admin',
      '/api%2F..%2Fadmin',
      '/api/.%2E/admin',
      '/api/..\\admin',
      '/api\\..\\admin',
      '/api//admin',
      '/api/%2Fadmin',
      '/api/%61dmin',
    ];
    for (const target of targets) {
      const client = await rawClient(server.url);
      client.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const all = await client.closed();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(all)?.[1]);
      assertGuarded(status, all.slice(all.indexOf('\r\n\r\n') + 4), target);
    }
  });
});

describe('rewrite: config', () => {
  const load = (rewriteCfg: Record<string, unknown>) =>
    loadConfig(
      { apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'rewrite', ...rewriteCfg }] }] } } } } },
      { logger: silentLogger() },
    );
  const H = 'apps.http.servers.s.routes[0].handle[0]';

  it('an empty path_regexp find, a bad regexp and a bad method are errors at their paths', async () => {
    await expect(load({ path_regexp: [{ find: '' }] })).rejects.toThrow(`${H}.path_regexp[0].find`);
    await expect(load({ path_regexp: [{ find: '(' }] })).rejects.toThrow(`${H}.path_regexp[0].find`);
    await expect(load({ query: { replace: [{ key: 'a', search_regexp: '(?=x)' }] } })).rejects.toThrow(
      `${H}.query.replace[0].search_regexp`,
    );
    await expect(load({ method: 'GE T' })).rejects.toThrow(/not an HTTP method/);
  });

  it('an unknown option is refused', async () => {
    const err = await load({ strip_prefix: '/api' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain('strip_prefix');
  });
});
