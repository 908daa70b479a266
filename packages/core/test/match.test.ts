import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  header,
  headerRegexp,
  host,
  method,
  not,
  path,
  pathRegexp,
  protocol,
  query,
  remoteIp,
  staticResponse,
  type MatcherSetInput,
} from '../src/index.js';
import { selfSigned } from '@ferry/test-kit/certs';
import { bodyOf, send, useServers, type SendOptions } from './helpers/http.js';

const serve = useServers();

interface Probe extends SendOptions {
  path?: string;
}

/**
 * One matcher behaviour, in both front doors: the code factories and the JSON matcher-set
 * object. They go through one compiler, so each case runs once per form.
 */
interface Case {
  says: string;
  code: () => MatcherSetInput;
  json: Record<string, unknown>;
  hit: Probe[];
  miss: Probe[];
}

const p = (path: string, rest: SendOptions = {}): Probe => ({ path, ...rest });
const withHost = (h: string): Probe => ({ path: '/', headers: { host: h } });
const withHeaders = (headers: Record<string, string>): Probe => ({ path: '/', headers });

const cases: Case[] = [
  // path
  {
    says: 'an exact path matches that path only, case-insensitively',
    code: () => path('/a'),
    json: { path: ['/a'] },
    hit: [p('/a'), p('/A'), p('/a?x=1')],
    miss: [p('/a/'), p('/ab'), p('/b/a')],
  },
  {
    says: 'a path ending in * matches by prefix',
    code: () => path('/api/*'),
    json: { path: ['/api/*'] },
    hit: [p('/api/'), p('/api/x/y'), p('/API/v1')],
    miss: [p('/api'), p('/apix'), p('/v1/api/')],
  },
  {
    says: 'a path starting with * matches by suffix',
    code: () => path('*.css'),
    json: { path: ['*.css'] },
    hit: [p('/x/y.css'), p('/Y.CSS')],
    miss: [p('/y.css/x'), p('/y.cssx')],
  },
  {
    says: 'a path with * at both ends matches by substring',
    code: () => path('*/admin/*'),
    json: { path: ['*/admin/*'] },
    hit: [p('/a/admin/b'), p('/admin/')],
    miss: [p('/administrator'), p('/a/admin')],
  },
  {
    says: 'a * in the middle of a path matches one segment',
    code: () => path('/a/*/c'),
    json: { path: ['/a/*/c'] },
    hit: [p('/a/b/c'), p('/a/xyz/c')],
    miss: [p('/a/b/x/c'), p('/a/c'), p('/a/b/c/d')],
  },
  {
    says: 'the request path is cleaned of dot segments and repeated slashes before matching',
    code: () => path('/b'),
    json: { path: ['/b'] },
    hit: [p('/a/../b'), p('//b'), p('/./b'), p('/x/y/../../b')],
    miss: [p('/a/b'), p('/b/../a')],
  },
  {
    says: 'a percent-encoded path matches by its decoded form',
    code: () => path('/a b'),
    json: { path: ['/a b'] },
    hit: [p('/a%20b')],
    miss: [p('/a%2520b')],
  },
  {
    says: 'a path matcher with several patterns matches any of them',
    code: () => path('/a', '/b/*'),
    json: { path: ['/a', '/b/*'] },
    hit: [p('/a'), p('/b/c')],
    miss: [p('/c'), p('/b')],
  },
  // method
  {
    says: 'a method matcher matches any listed method',
    code: () => method('GET', 'POST'),
    json: { method: ['GET', 'POST'] },
    hit: [p('/', { method: 'GET' }), p('/', { method: 'POST' })],
    miss: [p('/', { method: 'PUT' }), p('/', { method: 'DELETE' })],
  },
  // host
  {
    says: 'a host matches exactly, ignoring case and port',
    code: () => host('example.com'),
    json: { host: ['example.com'] },
    hit: [withHost('example.com'), withHost('EXAMPLE.com:8080')],
    miss: [withHost('www.example.com'), withHost('example.org'), withHost('example.com.evil')],
  },
  {
    says: 'a host wildcard stands for exactly one label',
    code: () => host('*.example.com'),
    json: { host: ['*.example.com'] },
    hit: [withHost('a.example.com'), withHost('B.Example.Com:443')],
    miss: [withHost('example.com'), withHost('a.b.example.com'), withHost('a.example.org'), withHost('a.example.com.org')],
  },
  // header
  {
    says: 'a header matcher matches one of the listed values exactly',
    code: () => header({ 'X-Env': ['prod', 'stage'] }),
    json: { header: { 'X-Env': ['prod', 'stage'] } },
    hit: [withHeaders({ 'x-env': 'prod' }), withHeaders({ 'X-ENV': 'stage' })],
    miss: [withHeaders({ 'x-env': 'production' }), withHeaders({ 'x-other': 'prod' }), p('/')],
  },
  {
    says: 'header values match with * as a prefix, suffix or substring wildcard',
    code: () => header({ 'X-V': ['pre*', '*suf', '*mid*'] }),
    json: { header: { 'X-V': ['pre*', '*suf', '*mid*'] } },
    hit: [withHeaders({ 'x-v': 'prefix' }), withHeaders({ 'x-v': 'the-suf' }), withHeaders({ 'x-v': 'a-mid-b' })],
    miss: [withHeaders({ 'x-v': 'xpre' }), withHeaders({ 'x-v': 'sufx' }), withHeaders({ 'x-v': 'mi-d' })],
  },
  {
    says: 'a header value of * matches any value of a present field',
    code: () => header({ 'X-V': ['*'] }),
    json: { header: { 'X-V': ['*'] } },
    hit: [withHeaders({ 'x-v': 'anything' })],
    miss: [p('/')],
  },
  {
    says: 'an empty header value list requires the field to be present',
    code: () => header({ 'X-Present': [] }),
    json: { header: { 'X-Present': [] } },
    hit: [withHeaders({ 'x-present': 'yes' }), withHeaders({ 'x-present': '' })],
    miss: [p('/'), withHeaders({ 'x-other': 'yes' })],
  },
  {
    says: 'a null header value requires the field to be absent',
    code: () => header({ 'X-Absent': null }),
    json: { header: { 'X-Absent': null } },
    hit: [p('/'), withHeaders({ 'x-other': '1' })],
    miss: [withHeaders({ 'x-absent': '1' })],
  },
  {
    says: 'every field of a header matcher must match',
    code: () => header({ 'X-A': ['1'], 'X-B': ['2'] }),
    json: { header: { 'X-A': ['1'], 'X-B': ['2'] } },
    hit: [withHeaders({ 'x-a': '1', 'x-b': '2' })],
    miss: [withHeaders({ 'x-a': '1' }), withHeaders({ 'x-a': '1', 'x-b': '3' })],
  },
  // header_regexp
  {
    says: 'a header_regexp matches a field against a regular expression',
    code: () => headerRegexp({ 'X-Token': { pattern: '^Bearer \\w+$' } }),
    json: { header_regexp: { 'X-Token': { pattern: '^Bearer \\w+$' } } },
    hit: [withHeaders({ 'x-token': 'Bearer abc123' })],
    miss: [withHeaders({ 'x-token': 'Basic abc' }), p('/')],
  },
  // query
  {
    says: 'a query matcher matches a listed value of the key',
    code: () => query({ q: ['v'] }),
    json: { query: { q: ['v'] } },
    hit: [p('/?q=v'), p('/?q=x&q=v'), p('/?a=1&q=v')],
    miss: [p('/?q=w'), p('/?r=v'), p('/')],
  },
  {
    says: 'a query value of * matches any value of a present key',
    code: () => query({ q: ['*'] }),
    json: { query: { q: ['*'] } },
    hit: [p('/?q=anything'), p('/?q=')],
    miss: [p('/?r=1'), p('/')],
  },
  {
    says: 'every key of a query matcher must match',
    code: () => query({ a: ['1'], b: ['2'] }),
    json: { query: { a: ['1'], b: ['2'] } },
    hit: [p('/?a=1&b=2')],
    miss: [p('/?a=1'), p('/?b=2'), p('/?a=1&b=3')],
  },
  // protocol
  {
    says: 'protocol "http" matches a cleartext request',
    code: () => protocol('http'),
    json: { protocol: 'http' },
    hit: [p('/')],
    miss: [],
  },
  {
    says: 'protocol "https" does not match a cleartext request',
    code: () => protocol('https'),
    json: { protocol: 'https' },
    hit: [],
    miss: [p('/')],
  },
  {
    says: 'protocol "http/1.1" matches an HTTP/1.1 request',
    code: () => protocol('http/1.1'),
    json: { protocol: 'http/1.1' },
    hit: [p('/')],
    miss: [],
  },
  {
    says: 'protocol "http/1.1+" matches an HTTP/1.1 request',
    code: () => protocol('http/1.1+'),
    json: { protocol: 'http/1.1+' },
    hit: [p('/')],
    miss: [],
  },
  {
    says: 'protocol "http/2+" does not match an HTTP/1.1 request',
    code: () => protocol('http/2+'),
    json: { protocol: 'http/2+' },
    hit: [],
    miss: [p('/')],
  },
  // remote_ip
  {
    says: 'remote_ip matches a client inside a listed range',
    code: () => remoteIp('127.0.0.1/8'),
    json: { remote_ip: { ranges: ['127.0.0.1/8'] } },
    hit: [p('/')],
    miss: [],
  },
  {
    says: 'remote_ip does not match a client outside every listed range',
    code: () => remoteIp('10.0.0.0/8', '192.168.0.0/16'),
    json: { remote_ip: { ranges: ['10.0.0.0/8', '192.168.0.0/16'] } },
    hit: [],
    miss: [p('/')],
  },
  {
    says: 'remote_ip matches a single listed address',
    code: () => remoteIp('10.0.0.1', '127.0.0.1'),
    json: { remote_ip: { ranges: ['10.0.0.1', '127.0.0.1'] } },
    hit: [p('/')],
    miss: [],
  },
  // not
  {
    says: 'not with one matcher set matches when that set does not',
    code: () => not(path('/x')),
    json: { not: [{ path: ['/x'] }] },
    hit: [p('/y')],
    miss: [p('/x')],
  },
  {
    says: 'not with several matcher sets matches only when none of them does',
    code: () => not(path('/x'), method('POST')),
    json: { not: [{ path: ['/x'] }, { method: ['POST'] }] },
    hit: [p('/y')],
    miss: [p('/x'), p('/y', { method: 'POST' })],
  },
  {
    says: 'not negates the AND of the matchers inside one set',
    code: () => not([path('/x'), method('POST')]),
    json: { not: [{ path: ['/x'], method: ['POST'] }] },
    hit: [p('/x'), p('/y', { method: 'POST' })],
    miss: [p('/x', { method: 'POST' })],
  },
];

describe.each([
  ['code factories', (c: Case) => ({ match: [c.code()], handle: [staticResponse({ body: 'hit' })] })],
  ['JSON matcher sets', (c: Case) => ({ match: [c.json], handle: [{ handler: 'static_response', body: 'hit' }] })],
] as const)('matchers through %s', (_form, route) => {
  it.each(cases.map((c) => [c.says, c] as const))('%s', async (_says, c) => {
    const server = await serve({ routes: [route(c)] });
    for (const probe of c.hit) {
      expect(
        await bodyOf(server.url, probe.path, probe),
        `${probe.method ?? 'GET'} ${probe.path} ${JSON.stringify(probe.headers ?? {})} should match`,
      ).toBe('hit');
    }
    for (const probe of c.miss) {
      expect(
        await bodyOf(server.url, probe.path, probe),
        `${probe.method ?? 'GET'} ${probe.path} ${JSON.stringify(probe.headers ?? {})} should not match`,
      ).toBe('');
    }
  });
});

describe('regular-expression captures', () => {
  it('path_regexp captures are placeholders under the matcher name, by index and by group name', async () => {
    const server = await serve({
      routes: [
        {
          match: [pathRegexp('^/user/(\\d+)/(?<tab>\\w+)$', 'user')],
          handle: [staticResponse({ body: 'id={http.regexp.user.1} tab={http.regexp.user.tab} all={http.regexp.user.0}' })],
        },
      ],
    });
    expect(await bodyOf(server.url, '/user/42/posts')).toBe('id=42 tab=posts all=/user/42/posts');
    expect(await bodyOf(server.url, '/user/x/posts')).toBe('');
  });

  it('path_regexp captures work from the JSON form too', async () => {
    const server = await serve({
      routes: [
        {
          match: [{ path_regexp: { name: 'doc', pattern: '^/docs/(?<slug>[a-z-]+)\\.md$' } }],
          handle: [{ handler: 'static_response', body: '{http.regexp.doc.slug}|{http.regexp.doc.1}' }],
        },
      ],
    });
    expect(await bodyOf(server.url, '/docs/getting-started.md')).toBe('getting-started|getting-started');
  });

  it('an unnamed path_regexp exposes its captures as {http.regexp.N}', async () => {
    const server = await serve({
      routes: [
        {
          match: [{ path_regexp: { pattern: '^/v(\\d+)/(\\w+)$' } }],
          handle: [staticResponse({ body: '{http.regexp.1}:{http.regexp.2}' })],
        },
      ],
    });
    expect(await bodyOf(server.url, '/v2/items')).toBe('2:items');
  });

  it('header_regexp captures are placeholders under the matcher name', async () => {
    const server = await serve({
      routes: [
        {
          match: [headerRegexp({ Authorization: { pattern: '^Bearer (?<token>[\\w.]+)$', name: 'auth' } })],
          handle: [staticResponse({ body: 'token={http.regexp.auth.token} first={http.regexp.auth.1}' })],
        },
      ],
    });
    expect(await bodyOf(server.url, '/', { headers: { authorization: 'Bearer abc.def' } })).toBe('token=abc.def first=abc.def');
  });

  it('an invalid regular expression is a config error at the matcher', async () => {
    const err = await serve({ routes: [{ match: [{ path_regexp: { pattern: '(' } }] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['routes[0].match[0].path_regexp']);
  });
});

describe('remote_ip on a dual-stack listener', () => {
  it('an IPv4 client seen as an IPv4-mapped IPv6 address matches an IPv4 range', async () => {
    const server = await serve({
      listen: '[::]:0',
      routes: [{ match: [remoteIp('127.0.0.0/8')], handle: [staticResponse({ body: 'hit' })] }],
    });
    expect(await bodyOf(server.url, '/', { connectHost: '127.0.0.1' })).toBe('hit');
  });

  it('an IPv4-mapped client does not match an IPv4 range it is outside of', async () => {
    const server = await serve({
      listen: '[::]:0',
      routes: [{ match: [remoteIp('10.0.0.0/8')], handle: [staticResponse({ body: 'hit' })] }],
    });
    expect(await bodyOf(server.url, '/', { connectHost: '127.0.0.1' })).toBe('');
  });

  it('an IPv6 client matches an IPv6 range and not an IPv4 one', async () => {
    const server = await serve({
      listen: '[::]:0',
      routes: [
        { match: [remoteIp('127.0.0.0/8')], handle: [staticResponse({ body: 'v4' })] },
        { match: [remoteIp('::1/128')], handle: [staticResponse({ body: 'v6' })] },
      ],
    });
    expect(await bodyOf(server.url, '/', { connectHost: '::1' })).toBe('v6');
  });

  it('an invalid range is a config error at the matcher', async () => {
    const err = await serve({ routes: [{ match: [{ remote_ip: { ranges: ['10.0.0.0/99'] } }] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual(['routes[0].match[0].remote_ip']);
  });
});

describe('protocol over h2c', () => {
  it('protocol "http/2" matches an h2c request and "http/1.1" matches only the HTTP/1.1 one', async () => {
    const server = await serve({
      protocols: ['h1', 'h2c'],
      routes: [
        { match: [protocol('http/1.1')], handle: [staticResponse({ body: 'h1' })] },
        { match: [protocol('http/2')], handle: [staticResponse({ body: 'h2' })] },
      ],
    });
    const session = h2connect(server.url);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      expect(body).toBe('h2');
    } finally {
      session.close();
    }
    expect((await send(server.url, '/')).body).toBe('h1');
  });
});

describe('protocol over TLS', () => {
  it('protocol "https" matches a TLS request and "http" does not', async () => {
    const { cert, key } = selfSigned();
    const server = await serve({
      tls: { certificates: [{ cert, key }] },
      routes: [
        { match: [protocol('http')], handle: [staticResponse({ body: 'http' })], terminal: true },
        { match: [{ protocol: 'https' }], handle: [staticResponse({ body: 'https' })] },
      ],
    });
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(server.url, { ca: cert }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('https');
  });
});
