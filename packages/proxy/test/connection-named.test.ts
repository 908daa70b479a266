/**
 * Fields named in `Connection` are hop-by-hop (RFC 9110 §7.6.1) — but a client must not be able to
 * strip what the proxy itself sends by naming it: Host, the framing, X-Forwarded-*, Via, and every
 * field the config's header ops set (issue #13, item 9).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { headers } from '@ferry/core';
import { deferred, netUpstream, rawClient, readUntil, startProxy } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { httpUpstream } from '@ferry/test-kit/upstreams';

/** An upstream that answers with the request headers it received, as JSON. */
async function mirror() {
  return httpUpstream('mirror', (req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
}

async function seenBy(url: string, fields: Record<string, string>, body?: string): Promise<IncomingHttpHeaders> {
  const r = await h1Get(url, { method: body === undefined ? 'GET' : 'POST', headers: fields, body });
  expect(r.status).toBe(200);
  return JSON.parse(r.body.toString()) as IncomingHttpHeaders;
}

/** An upstream that answers `fields` (raw header lines) with body `ok`. */
async function answering(fields: string) {
  return netUpstream((socket) => {
    let head = '';
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      head = '';
      socket.write(`HTTP/1.1 200 OK\r\n${fields}Content-Length: 2\r\n\r\nok`);
    });
  });
}

describe('fields a client names in Connection', () => {
  it('keep Host toward the upstream when the client names it', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const h = await seenBy(proxy.url, { host: 'app.example', connection: 'host' });
    expect(h.host).toBe('app.example');
  });

  it('keep Content-Length toward the upstream when the client names it', async () => {
    // Half the body follows the head, the rest once the upstream has the head: still streaming when forwarded.
    const head = deferred<IncomingHttpHeaders>();
    const up = await httpUpstream('a', (req, res) => {
      head.resolve(req.headers);
      req.resume();
      req.once('end', () => res.end('a'));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const sock = await rawClient(portOf(proxy));
    sock.write('POST / HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhe');
    const h = await head.promise;
    sock.write('llo');
    expect(h['content-length']).toBe('5');
    expect(h['transfer-encoding']).toBeUndefined();
    expect((await readUntil(sock, (b) => b.toString().endsWith('\r\n\r\na'))).toString()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('do not stop the proxy setting X-Forwarded-For/-Proto/-Host and Via', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const h = await seenBy(proxy.url, {
      host: 'shop.example',
      connection: 'x-forwarded-for, x-forwarded-proto, x-forwarded-host, via',
      'x-forwarded-for': '198.51.100.1',
      via: '1.0 edge',
    });
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('shop.example');
    expect(h.via).toBe('1.1 ferry');
  });

  it("do not stop the proxy's own request header ops", async () => {
    const up = await mirror();
    const proxy = await startProxy({
      upstreams: [{ dial: up.dial }],
      headers: { request: { set: { 'X-Route': ['{http.request.uri.path}'] }, add: { 'X-Tag': ['proxied'] } } },
    });
    const h = await seenBy(`${proxy.url}/p`, { connection: 'x-route, x-tag', 'x-route': 'spoofed', 'x-tag': 'client' });
    expect(h['x-route']).toBe('/p');
    expect(h['x-tag']).toBe('proxied');
  });

  it('do not strip what a headers handler before the proxy set, while the client’s own named fields go', async () => {
    const up = await mirror();
    const proxy = await startProxy(
      { upstreams: [{ dial: up.dial }] },
      { before: [headers({ request: { set: { 'X-User': ['alice'] }, add: { 'X-Role': ['reader'] } } })] },
    );
    const h = await seenBy(proxy.url, { connection: 'x-user, x-role, x-hop', 'x-user': 'mallory', 'x-hop': 'private' });
    expect(h['x-user']).toBe('alice');
    expect(h['x-role']).toBe('reader');
    expect(h['x-hop']).toBeUndefined();
  });

  it('include a field named Close when the client says `Connection: close`, and nothing else with `keep-alive`', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const closing = await seenBy(proxy.url, { connection: 'close', close: 'private', 'x-keep': '1' });
    expect(closing.close).toBeUndefined();
    expect(closing['x-keep']).toBe('1');
    const kept = await seenBy(proxy.url, { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'x-keep': '2' });
    expect(kept['keep-alive']).toBeUndefined();
    expect(kept['x-keep']).toBe('2');
  });

  it('are stripped as the client sent them, even when a handler before the proxy deleted Connection', async () => {
    const up = await mirror();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [headers({ request: { delete: ['Connection'] } })] });
    const h = await seenBy(proxy.url, { connection: 'x-hop', 'x-hop': 'private' });
    expect(h['x-hop']).toBeUndefined();
  });
});

describe('fields an upstream names in Connection', () => {
  it("do not stop the proxy's own response header ops", async () => {
    const up = await answering('Connection: keep-alive, X-Served\r\nX-Served: upstream\r\n');
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], headers: { response: { set: { 'X-Served': ['ferry'] } } } });
    const r = await h1Get(proxy.url);
    expect(r.body.toString()).toBe('ok');
    expect(r.headers['x-served']).toBe('ferry');
  });

  it('do not strip what a headers handler before the proxy set', async () => {
    const up = await answering('Connection: keep-alive, X-Frame-Options\r\nX-Frame-Options: ALLOWALL\r\n');
    const proxy = await startProxy(
      { upstreams: [{ dial: up.dial }] },
      { before: [headers({ response: { set: { 'X-Frame-Options': ['DENY'] } } })] },
    );
    const r = await h1Get(proxy.url);
    expect(r.headers['x-frame-options']).toBe('DENY');
  });
});

describe('hop-by-hop fields of an upstream', () => {
  const HOP =
    'Keep-Alive: timeout=99, max=7\r\nProxy-Authenticate: Basic realm="up"\r\nProxy-Connection: keep-alive\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\n';

  it.each([
    ['says only keep-alive', 'Connection: keep-alive\r\n'],
    ['says no Connection', ''],
    ['names another field too', 'Connection: keep-alive, X-Private\r\nX-Private: 1\r\n'],
  ])('are not passed on when its Connection %s', async (_what, connection) => {
    const up = await answering(`${connection}${HOP}X-End: 1\r\n`);
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const client = await rawClient(portOf(proxy));
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const head = (await readUntil(client, (b) => b.includes('\r\n\r\nok'))).toString('latin1').toLowerCase();
    expect(head).toContain('\r\nx-end: 1\r\n');
    for (const gone of ['timeout=99', 'proxy-authenticate', 'proxy-connection', 'trailer', 'upgrade', 'x-private'])
      expect(head, head).not.toContain(gone);
  });
});
