/**
 * The `cors` handler with real clients: preflights answered without reaching the next handler,
 * the allow fields only for allowed origins, Vary kept right, config mistakes named by their JSON
 * path, and hostile origins and request-header lists refused.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { h2Get, h2Session } from '@ferry/test-kit/clients';
import { defer } from '@ferry/test-kit/lifecycle';
import { ConfigError, HttpError, cors, type HandlerInput, type Middleware } from '../src/index.js';
import { issuesOf, load } from './helpers/config.js';
import { send, useServers, type Reply } from './helpers/http.js';

const serve = useServers();

/** The next handler: counts what reaches it and answers `next:<method>`. */
function counted() {
  const seen: string[] = [];
  const handler: Middleware = async (req, res) => {
    seen.push(req.method);
    res.setHeader('x-next', '1');
    res.end(`next:${req.method}`);
  };
  return { seen, handler };
}

/** A server with `cors` in front of a counting handler. */
async function corsServer(options: Parameters<typeof cors>[0], before: HandlerInput[] = []) {
  const next = counted();
  const server = await serve({ protocols: ['h1', 'h2c'], handler: [...before, cors(options), next.handler] });
  return { url: server.url, seen: next.seen };
}

function preflight(url: string, origin: string, method: string, headers: Record<string, string> = {}): Promise<Reply> {
  return send(url, '/', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, ...headers } });
}

/** The response's CORS fields, by name. */
function corsFields(res: Reply): Record<string, unknown> {
  return Object.fromEntries(Object.entries(res.headers).filter(([k]) => k.startsWith('access-control-')));
}

const APP = 'https://app.example.com';

describe('cors preflights', () => {
  it('answers an allowed preflight with 204 and the allow fields, without reaching the next handler', async () => {
    const s = await corsServer({
      allowedOrigins: [APP],
      allowedMethods: ['GET', 'PUT'],
      allowCredentials: true,
      maxAge: '10m',
    });
    const res = await preflight(s.url, APP, 'PUT', { 'access-control-request-headers': 'x-custom,content-type' });
    expect(res.status).toBe(204);
    expect(corsFields(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'x-custom, content-type',
      'access-control-max-age': '600',
    });
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
    expect(res.body).toBe('');
    expect(s.seen).toEqual([]);
  });

  it('refuses a preflight from an origin not in the list with 403 and no allow field, still without the next handler', async () => {
    const s = await corsServer({ allowedOrigins: [APP] });
    const res = await preflight(s.url, 'https://evil.example.net', 'POST');
    expect(res.status).toBe(403);
    expect(corsFields(res)).toEqual({});
    expect(res.headers.vary).toContain('Origin');
    expect(s.seen).toEqual([]);
  });

  it('refuses a method that is not allowed, and allows GET, HEAD and POST without listing them', async () => {
    const s = await corsServer({ allowedOrigins: [APP], allowedMethods: ['PUT'] });
    expect((await preflight(s.url, APP, 'DELETE')).status).toBe(403);
    expect((await preflight(s.url, APP, 'put')).status).toBe(403); // methods are case-sensitive
    expect((await preflight(s.url, APP, 'GE T')).status).toBe(403);
    expect((await preflight(s.url, APP, '')).status).toBe(403);
    for (const m of ['PUT', 'POST', 'GET', 'HEAD']) expect((await preflight(s.url, APP, m)).status, m).toBe(204);
    expect(s.seen).toEqual([]);
  });

  it('allows by default only the safelisted methods', async () => {
    const s = await corsServer({ allowedOrigins: [APP] });
    const ok = await preflight(s.url, APP, 'POST');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-methods']).toBe('GET, HEAD, POST');
    expect((await preflight(s.url, APP, 'PATCH')).status).toBe(403);
  });

  it('reflects the asked method for allowed_methods "*"', async () => {
    const s = await corsServer({ allowedOrigins: [APP], allowedMethods: ['*'] });
    const res = await preflight(s.url, APP, 'PROPFIND');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-methods']).toBe('PROPFIND');
  });

  it('with a header list, allows only those (case-insensitive) and answers with the list', async () => {
    const s = await corsServer({ allowedOrigins: [APP], allowedHeaders: ['X-Custom', 'Content-Type'] });
    const ok = await preflight(s.url, APP, 'POST', { 'access-control-request-headers': 'content-type,x-custom' });
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-headers']).toBe('X-Custom, Content-Type');
    const no = await preflight(s.url, APP, 'POST', { 'access-control-request-headers': 'x-custom,authorization' });
    expect(no.status).toBe(403);
    expect(corsFields(no)).toEqual({});
  });

  it('refuses hostile Access-Control-Request-Headers lists and reflects only plain tokens', async () => {
    const s = await corsServer({ allowedOrigins: [APP] });
    const many = Array.from({ length: 101 }, (_, i) => `x-h${i}`).join(',');
    expect((await preflight(s.url, APP, 'POST', { 'access-control-request-headers': many })).status).toBe(403);
    const hundred = Array.from({ length: 100 }, (_, i) => `x-h${i}`).join(',');
    expect((await preflight(s.url, APP, 'POST', { 'access-control-request-headers': hundred })).status).toBe(204);
    for (const bad of ['x-a b', 'x-a;y', 'x-a:1', 'x-"a"', 'x-a\tb', '(x)']) {
      const res = await preflight(s.url, APP, 'POST', { 'access-control-request-headers': bad });
      expect(res.status, bad).toBe(403);
      expect(corsFields(res), bad).toEqual({});
    }
    const messy = await preflight(s.url, APP, 'POST', { 'access-control-request-headers': ' X-One ,, ,x-two,' });
    expect(messy.headers['access-control-allow-headers']).toBe('x-one, x-two');
  });

  it('answers a Private Network Access preflight only when allowed', async () => {
    const pna = { 'access-control-request-private-network': 'true' };
    const off = await corsServer({ allowedOrigins: [APP] });
    expect((await preflight(off.url, APP, 'GET', pna)).status).toBe(403);
    const on = await corsServer({ allowedOrigins: [APP], allowPrivateNetwork: true });
    const res = await preflight(on.url, APP, 'GET', pna);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-private-network']).toBe('true');
    expect(res.headers.vary).toContain('Access-Control-Request-Private-Network');
  });

  it('treats an OPTIONS without Access-Control-Request-Method as an actual request', async () => {
    const s = await corsServer({ allowedOrigins: [APP] });
    const res = await send(s.url, '/', { method: 'OPTIONS', headers: { origin: APP } });
    expect(res.body).toBe('next:OPTIONS');
    expect(res.headers['access-control-allow-origin']).toBe(APP);
  });

  it('answers preflights over h2c the same way', async () => {
    const s = await corsServer({ allowedOrigins: [APP], allowedMethods: ['PUT'] });
    const session = await h2Session(s.url);
    const res = await h2Get(session, '/', { ':method': 'OPTIONS', origin: APP, 'access-control-request-method': 'PUT' });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers['access-control-allow-methods']).toBe('PUT');
    expect(s.seen).toEqual([]);
  });
});

describe('cors actual requests', () => {
  it('gives an allowed origin the allow fields and Vary: Origin, and runs the next handler', async () => {
    const s = await corsServer({ allowedOrigins: [APP], exposedHeaders: ['X-Next', 'ETag'], allowCredentials: true });
    const res = await send(s.url, '/', { headers: { origin: APP } });
    expect(res.body).toBe('next:GET');
    expect(corsFields(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'X-Next, ETag',
    });
    expect(res.headers.vary).toBe('Origin');
  });

  it('gives a disallowed origin no CORS field but Vary: Origin, and still runs the handler (CORS guards the page, not the server)', async () => {
    const s = await corsServer({ allowedOrigins: [APP], exposedHeaders: ['X-Next'], allowCredentials: true });
    const res = await send(s.url, '/', { method: 'DELETE', headers: { origin: 'https://other.example.com' } });
    expect(res.body).toBe('next:DELETE');
    expect(corsFields(res)).toEqual({});
    expect(res.headers.vary).toBe('Origin');
  });

  it('varies on Origin for a request without one too, since a cache may serve it to one', async () => {
    const s = await corsServer({ allowedOrigins: [APP] });
    const res = await send(s.url, '/');
    expect(corsFields(res)).toEqual({});
    expect(res.headers.vary).toBe('Origin');
  });

  it('"*" without credentials answers every request alike: Allow-Origin *, no Vary', async () => {
    const s = await corsServer({ allowedOrigins: ['*'], exposedHeaders: ['*'] });
    for (const headers of [{ origin: APP }, { origin: 'null' }, {}] as Record<string, string>[]) {
      const res = await send(s.url, '/', { headers });
      expect(corsFields(res)).toEqual({ 'access-control-allow-origin': '*', 'access-control-expose-headers': '*' });
      expect(res.headers.vary).toBeUndefined();
    }
    const pre = await preflight(s.url, 'https://anyone.test', 'POST', { 'access-control-request-headers': 'authorization' });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    // Reflected, not "*", which would not cover Authorization.
    expect(pre.headers['access-control-allow-headers']).toBe('authorization');
  });

  it('adds Origin to a Vary set before it and keeps a Vary set after it', async () => {
    const before: Middleware = async (req, res, next) => {
      res.setHeader('vary', 'Accept-Encoding');
      await next(req, res);
    };
    const s = await corsServer({ allowedOrigins: [APP] }, [before]);
    const res = await send(s.url, '/', { headers: { origin: APP } });
    expect(res.headers.vary).toBe('Accept-Encoding, Origin');
    const already: Middleware = async (req, res, next) => {
      res.setHeader('vary', 'origin');
      await next(req, res);
    };
    const t = await corsServer({ allowedOrigins: [APP] }, [already]);
    expect((await send(t.url, '/', { headers: { origin: APP } })).headers.vary).toBe('origin');
    const after: Middleware = async (_req, res) => {
      res.appendHeader('vary', 'Cookie');
      res.end();
    };
    const u = await serve({ handler: [cors({ allowedOrigins: [APP] }), after] });
    expect((await send(u.url, '/', { headers: { origin: APP } })).headers.vary).toBe('Origin, Cookie');
  });

  it('keeps the CORS fields and Vary on the default error response, so the page can read the error', async () => {
    const fail: Middleware = async (_req, res) => {
      res.setHeader('x-dropped', '1');
      throw new HttpError(404, 'no such user');
    };
    const server = await serve({ handler: [cors({ allowedOrigins: [APP] }), fail] });
    const res = await send(server.url, '/', { headers: { origin: APP } });
    expect(res.status).toBe(404);
    expect(res.body).toBe('no such user\n');
    expect(res.headers['access-control-allow-origin']).toBe(APP);
    expect(res.headers.vary).toBe('Origin');
    expect(res.headers['x-dropped']).toBeUndefined();
  });
});

describe('cors origins', () => {
  const list = ['https://example.com', 'https://*.example.com', 'http://localhost:8080'];

  it('matches exact origins and wildcard subdomains as browsers send them, and nothing that only looks like one', async () => {
    const s = await corsServer({ allowedOrigins: list });
    const allowed = [
      'https://example.com',
      'https://a.example.com',
      'https://a.b-c.example.com',
      'https://xn--bcher-kva.example.com',
      'http://localhost:8080',
    ];
    const refused = [
      'null',
      'https://example.com.evil.com',
      'https://evilexample.com',
      'https://evil.com/.example.com',
      'https://evil.com?.example.com',
      'https://evil.com#.example.com',
      'https://user@a.example.com',
      'https://.example.com',
      'https://a..example.com',
      'https://EXAMPLE.com',
      'HTTPS://a.example.com',
      'https://A.example.com',
      'http://example.com',
      'http://a.example.com',
      'https://example.com:443',
      'https://a.example.com:8443',
      'https://example.com/',
      'http://localhost:8081',
      'http://localhost',
      'https://example.com, https://evil.com',
      'https://a.example.com evil',
      '',
      '*',
      `https://${'a.'.repeat(600)}example.com`,
    ];
    for (const origin of allowed) {
      const res = await send(s.url, '/', { headers: { origin } });
      expect(res.headers['access-control-allow-origin'], origin).toBe(origin);
    }
    for (const origin of refused) {
      const res = await send(s.url, '/', { headers: { origin } });
      expect(corsFields(res), origin).toEqual({});
      expect((await preflight(s.url, origin, 'POST')).status, origin).toBe(403);
    }
    expect(s.seen.length).toBe(refused.length + allowed.length);
  });

  it('answers a huge Origin quickly with no CORS field, from the list and from a function alike', async () => {
    const huge = `https://${'a'.repeat(12_000)}.example.com`;
    const s = await corsServer({ allowedOrigins: ['https://*.example.com'] });
    expect(corsFields(await send(s.url, '/', { headers: { origin: huge } }))).toEqual({});
    let called = 0;
    const f = await corsServer({ allowedOrigins: () => ++called > 0 });
    expect(corsFields(await send(f.url, '/', { headers: { origin: huge } }))).toEqual({});
    expect(called).toBe(0);
  });

  it('never reflects what a raw client smuggles into Origin: CR, LF and folded lines are refused before any handler', async () => {
    const s = await corsServer({ allowedOrigins: ['https://*.example.com'] });
    const { port } = new URL(s.url);
    for (const origin of ['https://a.example.com\rX-Evil: 1', 'https://a.example.com\r\n X-Evil: 1', 'https://a.example.com\u0000']) {
      const socket = connect(Number(port), '127.0.0.1');
      defer(() => socket.destroy());
      socket.setEncoding('latin1');
      let reply = '';
      socket.on('data', (d: string) => (reply += d));
      socket.write(`GET / HTTP/1.1\r\nHost: x\r\nOrigin: ${origin}\r\nConnection: close\r\n\r\n`);
      await once(socket, 'close');
      expect(reply, JSON.stringify(origin)).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply.toLowerCase()).not.toContain('x-evil');
      expect(reply.toLowerCase()).not.toContain('access-control-');
    }
    expect(s.seen).toEqual([]);
  });

  it('asks a function in code, awaiting it, with the origin as sent and the request', async () => {
    const asked: string[] = [];
    const s = await corsServer({
      allowedOrigins: async (origin, req) => {
        asked.push(`${req.method} ${origin}`);
        return origin.endsWith('.trusted.test') || origin === 'null';
      },
      allowedMethods: ['PUT'],
    });
    expect((await send(s.url, '/', { headers: { origin: 'https://a.trusted.test' } })).headers['access-control-allow-origin']).toBe(
      'https://a.trusted.test',
    );
    expect(corsFields(await send(s.url, '/', { headers: { origin: 'https://x.test' } }))).toEqual({});
    expect((await send(s.url, '/', { headers: { origin: 'null' } })).headers['access-control-allow-origin']).toBe('null');
    expect((await preflight(s.url, 'https://b.trusted.test', 'PUT')).status).toBe(204);
    expect((await preflight(s.url, 'https://x.test', 'PUT')).status).toBe(403);
    await send(s.url, '/');
    expect(asked).toEqual([
      'GET https://a.trusted.test',
      'GET https://x.test',
      'GET null',
      'OPTIONS https://b.trusted.test',
      'OPTIONS https://x.test',
    ]);
  });

  it('treats only true from the function as allowed, and a function that throws as the handler error it is', async () => {
    const truthy = await corsServer({ allowedOrigins: () => 1 as unknown as boolean });
    expect(corsFields(await send(truthy.url, '/', { headers: { origin: APP } }))).toEqual({});
    const throwing = await corsServer({
      allowedOrigins: () => {
        throw new Error('lookup failed');
      },
    });
    const res = await send(throwing.url, '/', { headers: { origin: APP } });
    expect(res.status).toBe(500);
    expect(throwing.seen).toEqual([]);
  });
});

describe('cors config', () => {
  const config = (handler: Record<string, unknown>) => ({
    apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'cors', ...handler }] }] } } } },
  });
  const at = 'apps.http.servers.s.routes[0].handle[0]';

  it('refuses "*" with credentials at its JSON path, saying what to do', async () => {
    const issues = await issuesOf(config({ allowed_origins: ['https://a.test', '*'], allow_credentials: true, exposed_headers: ['*'] }));
    expect(issues.map((i) => i.path)).toEqual([`${at}.allowed_origins[1]`, `${at}.exposed_headers[0]`]);
    expect(issues[0]!.message).toMatch(/List the origins that may send credentials, or drop allow_credentials/);
    expect(issues[1]!.message).toMatch(/List the fields/);
  });

  it('names each entry that is not an origin, with the fix', async () => {
    const entries = [
      'https://example.com/',
      'https://example.com/api',
      'null',
      'example.com',
      'https://*.com',
      'https://exa*mple.com',
      'https://*.*.example.com',
      'https://*example.com',
      'https://u:p@example.com',
      'https://',
    ];
    const issues = await issuesOf(config({ allowed_origins: entries }));
    expect(issues.map((i) => i.path)).toEqual(entries.map((_, i) => `${at}.allowed_origins[${i}]`));
    const messages = issues.map((i) => i.message);
    expect(messages[0]).toBe('an origin has no path, query or trailing "/": write "https://example.com"');
    expect(messages[1]).toBe('an origin has no path, query or trailing "/": write "https://example.com"');
    expect(messages[2]).toMatch(/allows everyone/);
    expect(messages[3]).toMatch(/not an origin: write scheme:\/\/host\[:port\]/);
    expect(messages[4]).toMatch(/every site under a top-level domain/);
    expect(messages[5]).toMatch(/wildcard stands for whole subdomain labels/);
    expect(messages[8]).toMatch(/no user name or password/);
  });

  it('refuses bad methods, header names, a sub-second max_age, a missing or empty origin list and unknown options', async () => {
    const issues = await issuesOf(
      config({
        allowed_methods: ['GE T'],
        allowed_headers: ['x a'],
        exposed_headers: ['a:b'],
        max_age: 600,
        origins: ['x'],
      }),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        `${at}.allowed_origins`,
        `${at}.allowed_methods[0]`,
        `${at}.allowed_headers[0]`,
        `${at}.exposed_headers[0]`,
        `${at}.origins`,
      ]),
    );
    const empty = await issuesOf(config({ allowed_origins: [], max_age: '-1s' }));
    expect(empty.map((i) => i.path)).toEqual([`${at}.allowed_origins`, `${at}.max_age`]);
    const sub = await issuesOf(config({ allowed_origins: [APP], max_age: 600 }));
    expect(sub).toEqual([{ path: `${at}.max_age`, message: expect.stringMatching(/JSON number counts nanoseconds\): write e.g. "10m"/) }]);
  });

  it('warns that "*" makes the other entries redundant, and runs', async () => {
    const app = await load(config({ allowed_origins: ['*', APP] }));
    expect(app.warnings).toEqual([{ path: `${at}.allowed_origins`, message: '"*" allows every origin: the other entries change nothing' }]);
  });

  it('normalises origins as browsers send them: case, default port', async () => {
    const s = await corsServer({ allowedOrigins: ['HTTPS://App.Example.COM:443', 'https://*.Example.org'] });
    expect((await send(s.url, '/', { headers: { origin: APP } })).headers['access-control-allow-origin']).toBe(APP);
    expect((await send(s.url, '/', { headers: { origin: 'https://a.example.org' } })).headers['access-control-allow-origin']).toBe(
      'https://a.example.org',
    );
  });

  it('gives the code factory the same checks', async () => {
    const err = await serve({ handler: [cors({ allowedOrigins: ['*'], allowCredentials: true })] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]!.path).toMatch(/allowed_origins\[0\]$/);
  });
});
