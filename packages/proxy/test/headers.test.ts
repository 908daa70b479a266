import { once } from 'node:events';
import { connect } from 'node:net';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { netUpstream, startProxy } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h1Get, h2Session } from '@ferry/test-kit/clients';
import { httpUpstream } from '@ferry/test-kit/upstreams';

/** An upstream that answers with the request headers it received, as JSON. */
async function mirror() {
  return httpUpstream('mirror', (req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
}

async function seenBy(url: string, headers: Record<string, string | string[]> = {}): Promise<IncomingHttpHeaders> {
  const r = await h1Get(url, { headers });
  expect(r.status).toBe(200);
  return JSON.parse(r.body.toString()) as IncomingHttpHeaders;
}

describe('header operations', () => {
  it('apply request header ops (set, add, delete, replace) with placeholders before forwarding', async () => {
    const up = await mirror();
    const proxy = await startProxy({
      upstreams: [{ dial: up.dial }],
      headers: {
        request: {
          set: { 'X-Route': ['{http.request.method} {http.request.uri.path}'] },
          add: { 'X-Tag': ['proxied'] },
          delete: ['X-Secret', 'X-Debug-*'],
          replace: { 'X-Version': [{ search: 'v1', replace: 'v2-{http.request.uri.query.n}' }] },
        },
      },
    });
    const h = await seenBy(`${proxy.url}/items?n=7`, {
      'x-route': 'spoofed',
      'x-tag': 'client',
      'x-secret': 's3cret',
      'x-debug-trace': '1',
      'x-version': 'api-v1',
    });
    expect(h['x-route']).toBe('GET /items');
    expect(h['x-tag']).toBe('client, proxied');
    expect(h['x-secret']).toBeUndefined();
    expect(h['x-debug-trace']).toBeUndefined();
    expect(h['x-version']).toBe('api-v2-7');
  });

  it('apply response header ops (set, add, delete, replace) to the upstream response', async () => {
    const up = await httpUpstream('a', (req, res) => {
      req.resume();
      res.setHeader('server', 'upstream/1.0');
      res.setHeader('x-powered-by', 'php');
      res.setHeader('x-location', 'http://internal:8080/path');
      res.end('a');
    });
    const proxy = await startProxy({
      upstreams: [{ dial: up.dial }],
      headers: {
        response: {
          set: { Server: ['ferry'] },
          add: { 'X-Served-Path': ['{http.request.uri.path}'] },
          delete: ['X-Powered-By'],
          replace: { 'X-Location': [{ searchRegexp: '^http://internal:8080', replace: 'https://{http.request.host}' }] },
        },
      },
    });
    const r = await h1Get(`${proxy.url}/p`, { headers: { host: 'public.example' } });
    expect(r.headers.server).toBe('ferry');
    expect(r.headers['x-served-path']).toBe('/p');
    expect(r.headers['x-powered-by']).toBeUndefined();
    expect(r.headers['x-location']).toBe('https://public.example/path');
  });

  it("sends a response op's line break as a space in its one field: the upstream's fields skip Node's second check, the op's are made safe", async () => {
    const up = await httpUpstream('a', (req, res) => {
      req.resume();
      res.end('a');
    });
    // A value without placeholders is made a field value once, as a placeholder's output is (Go's spaces for CR and LF).
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], headers: { response: { set: { 'X-A': ['a\r\nX-Injected: 1'] } } } });
    const socket = connect(Number(new URL(proxy.url).port), '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    await once(socket, 'close');
    const answer = Buffer.concat(chunks).toString('latin1');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain('\r\nx-a: a  x-injected: 1\r\n');
    expect(answer.toLowerCase()).not.toContain('\r\nx-injected');
  });
});

describe('forwarding headers', () => {
  it('drops hop-by-hop fields and those named in Connection from the request', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const h = await seenBy(proxy.url, {
      connection: 'keep-alive, X-Hop',
      'x-hop': 'private',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      te: 'trailers, deflate',
      'x-end': 'kept',
    });
    expect(h['x-hop']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h['proxy-connection']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h.te).toBe('trailers');
    expect(h.connection).not.toMatch(/x-hop/i);
    expect(h['x-end']).toBe('kept');
  });

  it('drops hop-by-hop fields and those named in Connection from the response', async () => {
    const up = await netUpstream((socket) => {
      let head = '';
      socket.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        head = '';
        socket.write(
          'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Resp-Hop\r\nX-Resp-Hop: private\r\nKeep-Alive: timeout=1234\r\n' +
            'Proxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-End: kept\r\nContent-Length: 2\r\n\r\nok',
        );
      });
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await h1Get(proxy.url);
    expect(r.body.toString()).toBe('ok');
    expect(r.headers['x-resp-hop']).toBeUndefined();
    expect(r.headers['proxy-authenticate']).toBeUndefined();
    expect(r.headers.upgrade).toBeUndefined();
    expect(r.headers['keep-alive'] ?? '').not.toContain('1234');
    expect(r.headers.connection ?? '').not.toMatch(/x-resp-hop/i);
    expect(r.headers['x-end']).toBe('kept');
  });

  it('overwrites X-Forwarded-For/Proto/Host from an untrusted client', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const h = await seenBy(proxy.url, {
      host: 'shop.example',
      'x-forwarded-for': '198.51.100.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
    });
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('shop.example');
  });

  it('appends to X-Forwarded-For and keeps Proto/Host from a trusted proxy', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], trustedProxies: ['127.0.0.1/8'] });
    const h = await seenBy(proxy.url, {
      host: 'shop.example',
      'x-forwarded-for': '198.51.100.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'front.example',
    });
    expect(h['x-forwarded-for']).toBe('198.51.100.1, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-forwarded-host']).toBe('front.example');
  });

  it('keeps the Host the client sent', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect((await seenBy(proxy.url, { host: 'app.example:8443' })).host).toBe('app.example:8443');
  });

  it('adds Via to the request and to the response', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await h1Get(proxy.url, { headers: { via: '1.0 edge' } });
    const h = JSON.parse(r.body.toString()) as IncomingHttpHeaders;
    expect(h.via).toBe('1.0 edge, 1.1 ferry');
    expect(r.headers.via).toBe('1.1 ferry');
  });

  it("gives an HTTP/1.1 upstream the h2 client's :authority as Host, and Via 2.0", async () => {
    const up = await mirror();
    const { tls, ca } = certificates();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { tls, protocols: ['h1', 'h2'] });
    const session = await h2Session(proxy.url, { ca });
    const stream = session.request({ ':path': '/h2', ':authority': 'h2.example' });
    const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    let body = '';
    for await (const c of stream) body += String(c);
    const h = JSON.parse(body) as IncomingHttpHeaders;
    expect(h.host).toBe('h2.example');
    expect(h.via).toBe('2.0 ferry');
    expect(h['x-forwarded-proto']).toBe('https');
    expect(head.via).toBe('1.1 ferry');
    expect(head.connection).toBeUndefined();
  });

  it('forwards a 103 Early Hints from the upstream before the final response', async () => {
    const up = await httpUpstream('a', (req, res) => {
      req.resume();
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' }, () => res.end('a'));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const req = httpRequest(proxy.url, { agent: false });
    const hints: { statusCode: number; headers: IncomingHttpHeaders }[] = [];
    req.on('information', (info: { statusCode: number; headers: IncomingHttpHeaders }) => hints.push(info));
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.resume();
    await once(res, 'end');
    expect(hints).toHaveLength(1);
    expect(hints[0]!.statusCode).toBe(103);
    expect(hints[0]!.headers.link).toBe('</style.css>; rel=preload; as=style');
    expect(res.statusCode).toBe(200);
  });
});
