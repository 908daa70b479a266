/**
 * A route that blocks `/admin*` (and a host, and a `path_regexp`) in front of `reverse_proxy`
 * must not be walked past by any spelling of the request target: absolute-form, escapes the
 * matcher does not decode, `\` and `#` that a backend's URL parser reads differently, dot
 * segments. Each hostile target is sent over HTTP/1.1 (raw bytes) and h2; the invariant is that
 * either Ferry refuses it (403 from the block route, 400 for a malformed target) or the upstream
 * receives a request that none of the usual backend interpretations (WHATWG URL as Node's
 * frameworks use it, Go's decode-then-clean) reads as `/admin` or as the blocked host.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, header, host, not, path, pathRegexp, staticResponse, type FerryServer, type ServerOptions } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';
import { h2Request } from '../protocols/helpers.js';
import { HOSTILE } from './hostile-targets.js';
import { h2Session } from '@ferry/test-kit/clients';

interface Seen {
  url: string;
  host: string | undefined;
}

/** Percent-decodes byte-wise (invalid UTF-8 as U+FFFD), as Go and WHATWG decode a path. */
function decodeBytes(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^%([0-9a-f]{2})/i.exec(s.slice(i, i + 3));
    if (m) {
      bytes.push(parseInt(m[1]!, 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!, 'latin1'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's path.Clean, near enough: dot segments resolved, repeated slashes collapsed. */
function goClean(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** How backends read the target they were sent: Node's frameworks through WHATWG URL, Go by decoding then cleaning. */
function backendPaths(url: string): string[] {
  const whatwg = new URL(`http://upstream${url}`).pathname;
  const go = goClean(decodeBytes(url.split('?')[0]!));
  return [decodeBytes(whatwg), go].map((p) => p.toLowerCase());
}

const BLOCKED = 'blocked: ';

let upstream: ReturnType<typeof createHttpServer>;
const seen: Seen[] = [];
let deny: FerryServer;
let allow: FerryServer;

async function serve(routes: ServerOptions['routes'], protocols: ('h1' | 'h2c')[] = ['h1', 'h2c']): Promise<FerryServer> {
  const s = createServer({ listen: '127.0.0.1:0', logger: false, protocols, routes });
  await s.listen();
  return s;
}

beforeAll(async () => {
  upstream = createHttpServer((req: IncomingMessage, res) => {
    seen.push({ url: req.url ?? '', host: req.headers.host });
    res.end('upstream');
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const dial = `127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const block = (why: string) => staticResponse({ statusCode: 403, body: `${BLOCKED}${why}` });
  deny = await serve([
    { match: [[path('/admin*')]], handle: [block('path')], terminal: true },
    { match: [[pathRegexp('^/secret')]], handle: [block('path_regexp')], terminal: true },
    { match: [[host('blocked.example')], [header({ host: ['blocked2.example*'] })]], handle: [block('host')], terminal: true },
    { handle: [reverseProxy({ upstreams: [{ dial }] })] },
  ]);
  allow = await serve([
    { match: [[not([path('/public/*')])]], handle: [block('not public')], terminal: true },
    { handle: [reverseProxy({ upstreams: [{ dial }] })] },
  ]);
});

afterAll(async () => {
  await deny?.close({ gracePeriod: 0 });
  await allow?.close({ gracePeriod: 0 });
  upstream?.close();
});

/** One HTTP/1.1 request with the target written byte for byte; resolves with status and body. */
async function rawH1(server: FerryServer, target: string, hostHeader = 'ok.example'): Promise<{ status: number; body: string }> {
  const socket = netConnect({ host: '127.0.0.1', port: server.addresses[0]!.port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(Buffer.from(`GET ${target} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`, 'latin1'));
  const chunks: Buffer[] = [];
  for await (const c of socket) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

async function h2(server: FerryServer, target: string, authority = 'ok.example') {
  const session = await h2Session(`http://127.0.0.1:${server.addresses[0]!.port}`);
  const answer = await h2Request(session, { ':method': 'GET', ':path': target, ':authority': authority });
  session.close();
  return { status: answer.status, body: answer.body.toString('latin1') };
}

/**
 * The invariant: refused (400, or 403 from a block route), or what reached the upstream is read
 * by no backend as a blocked path (`denied`) or outside the allowed one, and never with a blocked host.
 */
function expectSafe(answer: { status: number; body: string }, before: number, check: (paths: string[]) => boolean, label: string): void {
  const got = seen.slice(before);
  if (answer.status === 400 || (answer.status === 403 && answer.body.startsWith(BLOCKED))) {
    expect(got, `${label}: refused, yet the upstream was reached`).toEqual([]);
    return;
  }
  expect(answer.status, `${label}: ${answer.body}`).toBe(200);
  expect(got.length, label).toBe(1);
  const { url, host: upHost } = got[0]!;
  expect(url.startsWith('/'), `${label}: forwarded ${url}`).toBe(true);
  expect(url, `${label}: raw \\ or # forwarded`).not.toMatch(/[\\#]/);
  expect(check(backendPaths(url)), `${label}: the upstream got ${JSON.stringify(url)} → ${JSON.stringify(backendPaths(url))}`).toBe(true);
  expect(upHost?.toLowerCase().startsWith('blocked'), `${label}: host ${upHost}`).toBe(false);
}

const notAdmin = (paths: string[]) => paths.every((p) => !p.startsWith('/admin') && !p.startsWith('/secret'));
const onlyPublic = (paths: string[]) => paths.every((p) => p.startsWith('/public/'));

describe('the request target is read once, the same way by matchers and upstreams', () => {
  it('HTTP/1.1: no spelling of /admin reaches the upstream as /admin', async () => {
    for (const target of HOSTILE) {
      const before = seen.length;
      expectSafe(await rawH1(deny, target), before, notAdmin, `h1 ${JSON.stringify(target)}`);
    }
  });

  it('h2: no spelling of /admin reaches the upstream as /admin', async () => {
    const refusedByH2: string[] = [];
    for (const target of HOSTILE) {
      const before = seen.length;
      let answer;
      try {
        answer = await h2(deny, target);
      } catch {
        // nghttp2 refused the :path itself (a control character): nothing may have been forwarded.
        refusedByH2.push(target);
        expect(seen.length).toBe(before);
        continue;
      }
      expectSafe(answer, before, notAdmin, `h2 ${JSON.stringify(target)}`);
    }
    expect(refusedByH2).toEqual(['/adm\x7fin']);
  });

  it('absolute-form is served as origin-form: its path meets the path matcher, its authority the host matcher', async () => {
    for (const target of [
      'http://x/admin',
      'HTTP://x/%61dmin',
      'https://x/admin/../admin',
      'http://blocked.example/',
      'http://BLOCKED2.example:80/y',
    ]) {
      const before = seen.length;
      const answer = await rawH1(deny, target);
      expect(answer.status, target).toBe(403);
      expect(seen.length, target).toBe(before);
    }
    const before = seen.length;
    expect((await rawH1(deny, 'http://other.example:8080?q=1', 'blocked.example')).status).toBe(200);
    // RFC 9112 §3.2.2: the target's authority, not the Host header, is the request's host.
    expect(seen.slice(before)).toEqual([{ url: '/?q=1', host: 'other.example:8080' }]);
  });

  it('an absolute-form target that is not http(s) with a plain authority is refused with 400', async () => {
    for (const target of ['http://user@x/admin', 'ftp://x/admin', 'http:///admin', 'x/admin', 'http://[::1/admin']) {
      const before = seen.length;
      const answer = await rawH1(deny, target);
      expect(answer.status, target).toBe(400);
      expect(seen.length, target).toBe(before);
    }
  });

  it('h2: an absolute-form :path is refused (RFC 9113 §8.3.1: origin-form only)', async () => {
    const before = seen.length;
    // nghttp2 resets such a stream itself (PROTOCOL_ERROR); were it let through, Ferry answers 400.
    const status = await h2(deny, 'http://x/admin').then(
      (a) => a.status,
      (err: Error) => err.message,
    );
    expect([400, 'Stream closed with error code NGHTTP2_PROTOCOL_ERROR']).toContain(status);
    expect(seen.length).toBe(before);
  });

  it('h2: the host matchers and the upstream read the same authority, whatever Host the client adds', async () => {
    const session = await h2Session(`http://127.0.0.1:${deny.addresses[0]!.port}`);
    for (const [authority, hostField] of [
      ['blocked.example', 'ok.example'],
      ['blocked2.example:443', 'ok.example'],
      ['BLOCKED.example', 'ok.example'],
      ['ok.example', 'blocked.example'],
    ] as const) {
      const before = seen.length;
      const answer = await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': authority, host: hostField });
      const body = answer.body.toString();
      expectSafe({ status: answer.status, body }, before, notAdmin, `h2 :authority ${authority}, host ${hostField}`);
      if (authority.toLowerCase().startsWith('blocked')) expect(answer.status).toBe(403);
      else expect(seen.slice(before).map((s) => s.host)).toEqual([authority]);
    }
    session.close();
  });

  it('`\\` and `#` are forwarded escaped (%5C, %23), as Caddy does', async () => {
    const before = seen.length;
    expect((await rawH1(deny, '/x/..\\y#z?a=#1')).status).toBe(200);
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/x/..%5Cy%23z?a=%231']);
  });

  it('an allow-list (`not` path) is not left by any spelling either', async () => {
    const targets = [
      '/public/../admin',
      '/public/%2e%2e/admin',
      '/public/..%2Fadmin',
      '/public/..\\..\\admin',
      '/public#/../../admin',
      'http://x/public/../admin',
      '/public/x',
    ];
    for (const target of targets) {
      const before = seen.length;
      expectSafe(await rawH1(allow, target), before, onlyPublic, `allow h1 ${JSON.stringify(target)}`);
    }
  });

  it('fuzz: targets built from dot segments, escapes, slashes and separators never reach /admin', async () => {
    const piece = fc.constantFrom(
      '/',
      '//',
      '.',
      '..',
      '%2e',
      '%2E%2e',
      '%2f',
      '%2F',
      '%5c',
      '\\',
      '#',
      '?',
      '%',
      '%ff',
      '%zz',
      'a',
      '%61',
      'dmin',
      'admin',
      'ADMIN',
      'x',
      '%00',
      ';',
    );
    const target = fc.array(piece, { minLength: 1, maxLength: 10 }).map((ps) => `/${ps.join('')}`);
    let reached = 0;
    await fc.assert(
      fc.asyncProperty(target, async (t) => {
        const before = seen.length;
        const answer = await rawH1(deny, t);
        if (seen.length > before) reached++;
        expectSafe(answer, before, notAdmin, `fuzz ${JSON.stringify(t)}`);
      }),
      { numRuns: 300, seed: 13 },
    );
    // The property is not vacuous: most targets are served, not refused.
    expect(reached).toBeGreaterThan(100);
  });
});
