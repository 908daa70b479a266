/**
 * Cookies: `req.cookies` parsed from what real clients send (HTTP/1.1, h2, several fields, hostile
 * values), and `res.setCookie` / `res.clearCookie` as real clients receive them — defaults, TLS,
 * prefixes, one field per cookie on every protocol, and clear errors for cookies browsers refuse.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetch } from 'undici';
import { certificates } from '@ferry/test-kit/certs';
import { h1Get, h2Get, h2Session } from '@ferry/test-kit/clients';
import { defer } from '@ferry/test-kit/lifecycle';
import { CookieError, ResponseWriterWrapper, type CookieOptions, type Middleware, type ResponseWriter } from '../src/index.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

/** A handler that answers with `req.cookies` as JSON (own keys only, prototype said). */
const echoCookies: Middleware = async (req, res) => {
  const c = req.cookies;
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({
      cookies: { ...c },
      proto: Object.getPrototypeOf(c) === null || Object.getPrototypeOf(Object.getPrototypeOf(c)) === null,
    }),
  );
};

/** A handler that sets the cookies the query names (`?set=a,b`) with `options`, then ends. */
const setter =
  (options: CookieOptions = {}): Middleware =>
  async (req, res) => {
    for (const name of (req.query.get('set') ?? 'sid').split(',')) res.setCookie(name, `v-${name}`, options);
    res.end('ok');
  };

/** Runs `fn(res)` in a handler and answers with the error it threw (`code` and `message`), or `none`. */
const thrown =
  (fn: (res: ResponseWriter) => void): Middleware =>
  async (_req, res) => {
    try {
      fn(res);
      res.end('none');
    } catch (err) {
      res.end(JSON.stringify({ code: (err as CookieError).code, name: (err as Error).name, message: (err as Error).message }));
    }
  };

/** Sends raw bytes on a fresh connection and returns everything the server wrote until it closed. */
async function raw(url: string, text: string): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  defer(() => socket.destroy());
  socket.setEncoding('latin1');
  let out = '';
  socket.on('data', (d: string) => (out += d));
  socket.write(text);
  await once(socket, 'end');
  return out;
}

describe('req.cookies', () => {
  it('parses the Cookie field: names to percent-decoded values, the first occurrence winning', async () => {
    const server = await serve({ handler: [echoCookies] });
    const res = await send(server.url, '/', { headers: { cookie: 'a=1; b=hello%20world; a=2; c="quoted"; d=' } });
    expect(JSON.parse(res.body).cookies).toEqual({ a: '1', b: 'hello world', c: 'quoted', d: '' });
  });

  it('joins several Cookie fields of one HTTP/1.1 request, the first occurrence still winning', async () => {
    const server = await serve({ handler: [echoCookies] });
    const reply = await raw(server.url, 'GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=2\r\nCookie: c=3; a=9\r\nConnection: close\r\n\r\n');
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).cookies).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('joins the separate cookie fields an h2 client sends (RFC 9113 §8.2.3)', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], handler: [echoCookies] });
    const session = await h2Session(server.url);
    // node:http2 sends each array item as its own `cookie` field.
    const res = await h2Get(session, '/', { cookie: ['a=1', 'b=2', 'a=3'] });
    expect(JSON.parse(res.body.toString()).cookies).toEqual({ a: '1', b: '2' });
  });

  it('joins the values a headers handler added to the request Cookie field with "; ", not commas', async () => {
    const server = await serve({ handler: [{ handler: 'headers', request: { add: { Cookie: ['added=1; more=2'] } } }, echoCookies] });
    expect(JSON.parse((await send(server.url, '/', { headers: { cookie: 'a=1' } })).body).cookies).toEqual({
      a: '1',
      added: '1',
      more: '2',
    });
  });

  it('gives no request an inherited key: __proto__ and constructor are ordinary cookie names', async () => {
    const server = await serve({ handler: [echoCookies] });
    const res = await send(server.url, '/', { headers: { cookie: '__proto__=x; constructor=y; toString=z; hasOwnProperty=w' } });
    const body = JSON.parse(res.body);
    expect(body.cookies).toEqual(JSON.parse('{"__proto__":"x","constructor":"y","toString":"z","hasOwnProperty":"w"}'));
    expect(Object.keys(body.cookies)).toEqual(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    expect(body.proto).toBe(true);
  });

  it('is empty, with no inherited key, without a Cookie field', async () => {
    const server = await serve({
      handler: async (req, res) =>
        void res.end(JSON.stringify([Object.keys(req.cookies), 'toString' in req.cookies, req.cookies.constructor])),
    });
    expect(JSON.parse((await send(server.url, '/')).body)).toEqual([[], false, null]);
  });

  it('never throws on hostile fields: bad escapes stay as sent, pairs without = are skipped, separators alone give nothing', async () => {
    const server = await serve({ handler: [echoCookies] });
    const cases: [string, Record<string, string>][] = [
      ['a=%E0%A4%A; b=%zz; c=%', { a: '%E0%A4%A', b: '%zz', c: '%' }],
      ['novalue; a=1; =anon; ;;; b', { a: '1', '': 'anon' }],
      [';;;==;=;', { '': '=' }],
      ['a=1=2=3', { a: '1=2=3' }],
      ['a="', { a: '"' }],
      ['a=%00%0d%0a', { a: '\u0000\r\n' }],
    ];
    for (const [cookie, expected] of cases) {
      const res = await send(server.url, '/', { headers: { cookie } });
      expect(res.status, cookie).toBe(200);
      expect(JSON.parse(res.body).cookies, cookie).toEqual(expected);
    }
  });

  it('parses fields near the header limit: a thousand pairs, or separators without a pair', async () => {
    const server = await serve({ handler: async (req, res) => void res.end(JSON.stringify(Object.keys(req.cookies).length)) });
    const cases: [string, number][] = [
      [Array.from({ length: 1000 }, (_, i) => `k${i}=${i}`).join(';'), 1000],
      [`${';'.repeat(15_000)}a=1`, 1],
      ['x'.repeat(15_000), 0],
      [`${'a;'.repeat(7000)}b=1`, 1],
    ];
    for (const [cookie, count] of cases) expect((await send(server.url, '/', { headers: { cookie } })).body).toBe(String(count));
  });

  it('is read when first asked for: a handler that rewrites the field before sees its own value', async () => {
    const server = await serve({
      handler: [
        async (req, res, next) => {
          req.headers.cookie = 'who=rewritten';
          await next(req, res);
        },
        echoCookies,
      ],
    });
    expect(JSON.parse((await send(server.url, '/', { headers: { cookie: 'who=client' } })).body).cookies).toEqual({ who: 'rewritten' });
  });

  it('feeds the {http.request.cookie.NAME} placeholder, empty for a missing cookie', async () => {
    const server = await serve({
      routes: [{ handle: [{ handler: 'static_response', body: '[{http.request.cookie.sid}|{http.request.cookie.none}]' }] }],
    });
    expect((await send(server.url, '/', { headers: { cookie: 'sid=a%2Fb' } })).body).toBe('[a/b|]');
  });
});

describe('res.setCookie', () => {
  it('sends Path=/, HttpOnly and SameSite=Lax, without Secure over plain HTTP', async () => {
    const server = await serve({ handler: [setter()] });
    expect((await send(server.url, '/')).headers['set-cookie']).toEqual(['sid=v-sid; Path=/; HttpOnly; SameSite=Lax']);
  });

  it('adds Secure when the request came over TLS, on HTTP/1.1 and h2, unless told not to', async () => {
    const { tls, ca } = certificates();
    const server = await serve({ tls, protocols: ['h1', 'h2'], handler: [setter()] });
    const h1 = await h1Get(`${server.url}/`, { ca });
    expect(h1.headers['set-cookie']).toEqual(['sid=v-sid; Path=/; HttpOnly; Secure; SameSite=Lax']);
    const h2 = await h2Get(await h2Session(server.url, { ca }), '/');
    expect(h2.headers['set-cookie']).toEqual(['sid=v-sid; Path=/; HttpOnly; Secure; SameSite=Lax']);
    const off = await serve({ tls, handler: [setter({ secure: false, httpOnly: false, sameSite: false })] });
    expect((await h1Get(`${off.url}/`, { ca })).headers['set-cookie']).toEqual(['sid=v-sid; Path=/']);
  });

  it('writes every option it is given', async () => {
    const expires = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    const server = await serve({
      handler: [
        setter({
          path: '/app',
          domain: 'example.com',
          maxAge: '1h',
          expires,
          secure: true,
          sameSite: 'strict',
          partitioned: true,
          priority: 'high',
        }),
      ],
    });
    expect((await send(server.url, '/')).headers['set-cookie']).toEqual([
      'sid=v-sid; Max-Age=3600; Domain=example.com; Path=/app; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; Partitioned; Priority=High; SameSite=Strict',
    ]);
  });

  it('sends one Set-Cookie field per call, never joined with commas, over HTTP/1.1', async () => {
    const server = await serve({ handler: [setter({ maxAge: 60, expires: new Date(0) })] });
    const reply = await raw(server.url, 'GET /?set=a,b,c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const fields = reply.split('\r\n').flatMap((l) => (/^set-cookie: /i.test(l) ? [l.slice(12)] : []));
    // An Expires date has a comma in it: joined fields would be unreadable.
    expect(fields).toEqual(
      ['a', 'b', 'c'].map((n) => `${n}=v-${n}; Max-Age=60; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax`),
    );
  });

  it('sends one set-cookie field per call over h2, as the client sees them on the wire', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], handler: [setter()] });
    const session = await h2Session(server.url);
    const stream = session.request({ ':path': '/?set=a,b' });
    const [, , rawHeaders] = (await once(stream, 'response')) as [unknown, number, string[]];
    stream.resume();
    const values = rawHeaders.flatMap((v, i) => (i % 2 === 0 && v === 'set-cookie' ? [rawHeaders[i + 1]] : []));
    expect(values).toEqual(['a=v-a; Path=/; HttpOnly; SameSite=Lax', 'b=v-b; Path=/; HttpOnly; SameSite=Lax']);
  });

  it('round-trips a value of any characters through a real client (undici): encoded on the way out, decoded on the way in', async () => {
    const value = 'a b;c=d,"e"\\ ✓ %41';
    const server = await serve({
      handler: async (req, res) => {
        if (req.path === '/set') res.setCookie('v', value);
        res.end(req.cookies.v ?? '');
      },
    });
    const first = await fetch(`${server.url}/set`);
    await first.text();
    const setCookie = first.headers.getSetCookie();
    expect(setCookie).toHaveLength(1);
    const pair = setCookie[0]!.split(';')[0]!;
    expect(pair).toMatch(/^v=[\x21-\x7e]+$/);
    const back = await fetch(`${server.url}/`, { headers: { cookie: pair } });
    expect(await back.text()).toBe(value);
  });

  it('goes through a wrapper to the writer that knows the connection (Secure over TLS)', async () => {
    const { tls, ca } = certificates();
    const seen: string[] = [];
    class Recording extends ResponseWriterWrapper {
      override setCookie(name: string, value: string, options?: CookieOptions): this {
        seen.push(name);
        return super.setCookie(name, value, options);
      }
    }
    const server = await serve({ tls, handler: [async (req, res, next) => next(req, new Recording(res)), setter()] });
    const res = await h1Get(`${server.url}/?set=w`, { ca });
    expect(res.headers['set-cookie']).toEqual(['w=v-w; Path=/; HttpOnly; Secure; SameSite=Lax']);
    expect(seen).toEqual(['w']);
  });
});

describe('res.setCookie refuses cookies browsers would refuse, with a CookieError', () => {
  const cases: [string, (res: ResponseWriter) => void, RegExp][] = [
    ['a name with a space', (r) => r.setCookie('a b', 'x'), /invalid name "a b": a cookie name is printable ASCII/],
    ['a name with ;', (r) => r.setCookie('a;b', 'x'), /invalid name "a;b"/],
    ['an empty name', (r) => r.setCookie('', 'x'), /invalid name ""/],
    ['a name with CR LF', (r) => r.setCookie('a\r\nx-injected: 1', 'x'), /invalid name "a\\r\\nx-injected: 1"/],
    ['a value its encoder leaves raw', (r) => r.setCookie('a', 'x;y', { encode: (v) => v }), /the encoded value holds characters/],
    ['a domain with a port', (r) => r.setCookie('a', 'x', { domain: 'example.com:8080' }), /invalid domain/],
    ['a path with ;', (r) => r.setCookie('a', 'x', { path: '/a;b' }), /invalid path/],
    ['a fractional maxAge', (r) => r.setCookie('a', 'x', { maxAge: 1.5 }), /maxAge is invalid/],
    ['a maxAge string that is no duration', (r) => r.setCookie('a', 'x', { maxAge: '10' }), /maxAge invalid duration "10": missing unit/],
    ['an invalid date', (r) => r.setCookie('a', 'x', { expires: new Date(Number.NaN) }), /expires is invalid/],
    ['__Secure- with secure: false', (r) => r.setCookie('__Secure-a', 'x', { secure: false }), /a __Secure- name requires Secure/],
    ['__secure- in any case', (r) => r.setCookie('__SECURE-a', 'x', { secure: false }), /a __Secure- name requires Secure/],
    [
      '__Host- with a domain',
      (r) => r.setCookie('__Host-a', 'x', { domain: 'example.com' }),
      /a __Host- cookie has no domain and path "\/"/,
    ],
    ['__Host- with another path', (r) => r.setCookie('__Host-a', 'x', { path: '/app' }), /a __Host- cookie has no domain/],
    ['__Host- with secure: false', (r) => r.setCookie('__host-a', 'x', { secure: false }), /a __Host- name requires Secure/],
    ['SameSite=None without Secure', (r) => r.setCookie('a', 'x', { sameSite: 'none', secure: false }), /sameSite: 'none' requires Secure/],
    ['Partitioned without Secure', (r) => r.setCookie('a', 'x', { partitioned: true, secure: false }), /partitioned requires Secure/],
    ['more than 4096 bytes', (r) => r.setCookie('a', 'x'.repeat(4096)), /exceed 4096 bytes, which browsers drop/],
    ['a value that is no string', (r) => r.setCookie('a', 42 as unknown as string), /the value is a string, got number/],
    ['clearing a __Host- cookie with a path', (r) => r.clearCookie('__Host-a', { path: '/x' }), /a __Host- cookie has no domain/],
  ];
  for (const [what, fn, message] of cases) {
    it(`refuses ${what}`, async () => {
      const server = await serve({ handler: [thrown(fn)] });
      const res = await send(server.url, '/');
      const err = JSON.parse(res.body);
      expect(err.code).toBe('FERRY_ERR_COOKIE');
      expect(err.name).toBe('CookieError');
      expect(err.message).toMatch(message);
      // Nothing reached the header block.
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  }

  it('is a CookieError (a TypeError) that reaches the error routes as a 500 when not caught', async () => {
    expect(new CookieError('x')).toBeInstanceOf(TypeError);
    const server = await serve({ handler: [async (_req, res) => void res.setCookie('bad name', 'x')] });
    const res = await send(server.url, '/');
    expect(res.status).toBe(500);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('makes Secure the default where the cookie needs it, even over plain HTTP', async () => {
    const server = await serve({
      handler: async (_req, res) => {
        res.setCookie('__Host-a', '1').setCookie('__Secure-b', '2').setCookie('c', '3', { sameSite: 'none' });
        res.end();
      },
    });
    expect((await send(server.url, '/')).headers['set-cookie']).toEqual([
      '__Host-a=1; Path=/; HttpOnly; Secure; SameSite=Lax',
      '__Secure-b=2; Path=/; HttpOnly; Secure; SameSite=Lax',
      'c=3; Path=/; HttpOnly; Secure; SameSite=None',
    ]);
  });
});

describe('res.clearCookie', () => {
  it('removes a cookie with the same Path and Domain, Max-Age=0 and an Expires in 1970', async () => {
    const server = await serve({
      handler: async (_req, res) => {
        res.clearCookie('sid', { path: '/app', domain: 'example.com' });
        res.end();
      },
    });
    expect((await send(server.url, '/')).headers['set-cookie']).toEqual([
      'sid=; Max-Age=0; Domain=example.com; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax',
    ]);
  });

  it('keeps a prefixed cookie valid (Secure) over h2 with TLS, so browsers accept the removal', async () => {
    const { tls, ca } = certificates();
    const server = await serve({
      tls,
      handler: async (_req, res) => {
        res.clearCookie('__Host-sid').clearCookie('plain');
        res.end();
      },
    });
    const res = await h2Get(await h2Session(server.url, { ca }), '/');
    expect(res.headers['set-cookie']).toEqual([
      '__Host-sid=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
      'plain=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    ]);
  });
});
