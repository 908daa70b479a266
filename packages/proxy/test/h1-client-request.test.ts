/**
 * The request as the HTTP/1.1 upstream client puts it on the wire: nothing a client or a
 * placeholder put in a field or the target can end a line early (request splitting), and a body
 * arrives byte-exact in the framing it came with (Content-Length, or chunked when it has no
 * length, from HTTP/1.1 and h2 clients alike), never past its declared length.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Middleware } from '@ferry/core';
import { defer, rawClient, readUntil, socketWrites, startProxy } from './helpers/net.js';
import { fetchOutcome, rawUpstream, sizedResponse } from './helpers/raw-h1.js';
import { h1Get, h2Session } from '@ferry/test-kit/clients';
import { httpUpstream } from '@ferry/test-kit/upstreams';
import { collect } from '@ferry/test-kit/streams';
import { eventually, within } from '@ferry/test-kit/waiting';

/** An upstream that answers every request `ok`. */
const okUpstream = () => rawUpstream((_req, socket) => socket.write(sizedResponse('ok')));

/** Random pieces of `data`, 1 to 5000 bytes each. */
function pieces(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const n = 1 + Math.floor(Math.random() * 5000);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** The upstream's header lines (after the request line), as received. */
function headLines(up: { bytes(): Buffer }): string[] {
  const wire = up.bytes().toString('latin1');
  return wire.slice(0, wire.indexOf('\r\n\r\n')).split('\r\n').slice(1);
}

describe('a field value made from request data', () => {
  it.each([
    ['CR LF', 'a%0D%0AX-Injected:%201'],
    ['a bare LF', 'a%0AX-Injected:%201'],
    ['a bare CR', 'a%0DX-Injected:%201'],
    ['a NUL', 'a%00X-Injected:%201'],
  ])('by a placeholder, holding %s, never becomes a line of its own at the upstream', async (_name, q) => {
    const up = await okUpstream();
    const proxy = await startProxy({
      upstreams: [{ dial: up.dial }],
      headers: { request: { set: { 'X-Q': ['{http.request.uri.query.q}'] } } },
    });
    const r = await fetchOutcome(`${proxy.url}/?q=${q}`);
    // Refused, or sent with the control characters made harmless (core's header ops replace them).
    if (r.status === 502) expect(up.requests).toHaveLength(0);
    else {
      expect(r.status).toBe(200);
      expect(up.requests).toHaveLength(1);
      expect(up.requests[0]!.fields['x-q']).toMatch(/^a[ \t]+X-Injected: 1$/);
    }
    expect(up.requests[0]?.fields['x-injected']).toBeUndefined();
    for (const line of headLines(up)) {
      expect(line).not.toMatch(/^x-injected/i);
      expect(line).not.toMatch(/[^\t\x20-\x7e\x80-\xff]/);
    }
  });

  it.each([
    ['CR LF', 'a\r\nX-Injected: 1'],
    ['a bare LF', 'a\nX-Injected: 1'],
    ['a NUL', 'a\x00b'],
    ['a character beyond Latin-1', 'a\u20acb'],
  ])('set by code, holding %s, is refused with 502 and nothing reaches the upstream', async (_name, value) => {
    const up = await okUpstream();
    const setField: Middleware = (req, res, next) => {
      req.headers['x-q'] = value;
      return next(req, res);
    };
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [setField] });
    const r = await fetchOutcome(proxy.url);
    expect(r.status).toBe(502);
    expect(up.bytes().length).toBe(0);
  });

  it('set by code, holding a field name that is no token, is refused with 502', async () => {
    const up = await okUpstream();
    const setField: Middleware = (req, res, next) => {
      req.headers['x-a\r\nx-injected'] = '1';
      return next(req, res);
    };
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [setField] });
    expect((await fetchOutcome(proxy.url)).status).toBe(502);
    expect(up.bytes().length).toBe(0);
  });
});

describe('a rewritten request target', () => {
  const rewriteTo =
    (target: string): Middleware =>
    (req, res, next) => {
      req.url = target;
      return next(req, res);
    };

  it.each([
    ['a space', '/a b'],
    ['CR LF', '/a\r\nX-Injected: 1'],
    ['a control character', '/a\x01b'],
    ['a character beyond Latin-1', '/a\u20acb'],
  ])('holding %s is refused with 502 and nothing is sent', async (_name, target) => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [rewriteTo(target)] });
    const r = await fetchOutcome(proxy.url);
    expect(r.status).toBe(502);
    expect(up.bytes().length).toBe(0);
  });

  it('without one is sent as it is', async () => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [rewriteTo('/b/%20?x=%0D')] });
    expect((await h1Get(proxy.url)).status).toBe(200);
    expect(up.requests.map((q) => q.target)).toEqual(['/b/%20?x=%0D']);
  });
});

describe('a request body', () => {
  it('with Content-Length over HTTP/1.1 arrives byte-exact, with that length and unchunked', async () => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const body = randomBytes(300 * 1024);
    const r = await h1Get(proxy.url, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status).toBe(200);
    const [seen] = up.requests;
    expect(seen!.fields['content-length']).toBe(String(body.length));
    expect(seen!.fields['transfer-encoding']).toBeUndefined();
    expect(seen!.body.equals(body)).toBe(true);
  });

  it('that arrives with its head (one client write, two reads of the proxy) goes to the upstream in one write', async () => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    // A connection to take at once: the request is sent while its head is being read.
    expect((await fetchOutcome(`${proxy.url}/warm`)).status).toBe(200);
    const writes = socketWrites((socket) => socket.remotePort === up.port);
    // Past Node's 64 KiB read: the proxy reads the head and the body's start, then the rest.
    const body = randomBytes(64 * 1024);
    const client = await rawClient(proxy.addresses[0]!.port);
    client.write(Buffer.concat([Buffer.from(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'), body]));
    const answer = await readUntil(client, (b) => b.toString('latin1').endsWith('\r\n\r\nok'));
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
    const sent = up.requests[1]!;
    expect(sent.body.equals(body)).toBe(true);
    expect(writes).toEqual([Buffer.byteLength(sent.head, 'latin1') + body.length]);
  });

  it('chunked from an HTTP/1.1 client arrives chunked and byte-exact', async () => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const body = randomBytes(200 * 1024);
    const upload = httpRequest(proxy.url, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } });
    upload.on('error', () => {});
    defer(() => upload.destroy());
    for (const p of pieces(body)) if (!upload.write(p)) await once(upload, 'drain');
    upload.end();
    const [res] = (await once(upload, 'response')) as [IncomingMessage];
    expect((await collect(res)).toString()).toBe('ok');
    const [seen] = up.requests;
    expect(seen!.fields['transfer-encoding']).toBe('chunked');
    expect(seen!.fields['content-length']).toBeUndefined();
    expect(seen!.body.equals(body)).toBe(true);
  });

  it('without content-length from an h2 client arrives chunked and byte-exact', async () => {
    const up = await okUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { protocols: ['h1', 'h2c'] });
    const session = await h2Session(proxy.url);
    const body = randomBytes(150 * 1024);
    const stream = session.request({ ':method': 'POST', ':path': '/upload' }, { endStream: false });
    stream.on('error', () => {});
    for (const p of pieces(body)) if (!stream.write(p)) await once(stream, 'drain');
    stream.end();
    const [head] = (await once(stream, 'response')) as [Record<string, unknown>];
    expect(head[':status']).toBe(200);
    expect((await collect(stream)).toString()).toBe('ok');
    const [seen] = up.requests;
    expect(seen!.fields['transfer-encoding']).toBe('chunked');
    expect(seen!.body.equals(body)).toBe(true);
  });

  it.each([
    ['all at once', false],
    ['after the head and 3 bytes reached the upstream', true],
  ])('from an h2 client longer than its content-length (%s) never reaches the upstream past that length', async (_name, staged) => {
    const up = await rawUpstream(() => {});
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { protocols: ['h1', 'h2c'] });
    const session = await h2Session(proxy.url);
    const stream = session.request({ ':method': 'POST', ':path': '/', 'content-length': '5' }, { endStream: false });
    stream.on('error', () => {});
    if (staged) {
      stream.write('012');
      await eventually(() => up.bytes().includes('\r\n\r\n012'), 2000, 'the head and 3 bytes at the upstream');
      stream.end('3456789');
    } else stream.end('0123456789');
    await within(new Promise((r) => stream.once('close', r)), 3000, 'the h2 stream closed');
    // nghttp2 resets it (PROTOCOL_ERROR), or the proxy does: it never ends as a whole exchange.
    expect(stream.rstCode).not.toBe(0);
    await eventually(() => up.conns.every((c) => c.isClosed()), 2000, 'the upstream connections closed');
    const wire = up.bytes().toString('latin1');
    const headEnd = wire.indexOf('\r\n\r\n');
    if (staged) expect(wire.slice(0, headEnd)).toMatch(/\r\ncontent-length: 5(\r\n|$)/i);
    if (headEnd !== -1) expect(wire.length - (headEnd + 4)).toBeLessThanOrEqual(5);
    expect(wire).not.toContain('56789');
  });
});

describe('framing fields a header operation sets', () => {
  /** A node:http upstream (it answers a GET without reading a body) naming each request it read. */
  const naming = () =>
    httpUpstream('u', (req, res) => {
      req.resume();
      res.end(`seen ${req.method} ${req.url}`);
    });

  it.each([
    ['Content-Length on a GET', { set: { 'Content-Length': ['5'] } }, 'GET'],
    ['Transfer-Encoding on a GET', { set: { 'Transfer-Encoding': ['chunked'] } }, 'GET'],
    ['Transfer-Encoding on a POST', { set: { 'Transfer-Encoding': ['chunked'] } }, 'POST'],
    ['a second Content-Length on a POST', { add: { 'Content-Length': ['3'] } }, 'POST'],
    ['a Content-Length that is no number', { set: { 'Content-Length': ['5, 5'] } }, 'POST'],
  ])('(%s) are refused with 502, and the next request on the upstream is read as sent', async (_name, ops, method) => {
    const up = await naming();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], headers: { request: ops } });
    const r = await fetchOutcome(`${proxy.url}/first`, method === 'POST' ? { method, body: 'hello' } : { method });
    expect(r.status).toBe(502);
    expect(up.seen).toHaveLength(0);
    const plain = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect((await fetchOutcome(`${plain.url}/second`)).body.toString()).toBe('seen GET /second');
  });

  it('Content-Length 0 on a GET, or the length the body has, go out as set', async () => {
    const up = await naming();
    const zero = await startProxy({ upstreams: [{ dial: up.dial }], headers: { request: { set: { 'Content-Length': ['0'] } } } });
    expect((await fetchOutcome(`${zero.url}/a`)).body.toString()).toBe('seen GET /a');
    expect((await fetchOutcome(`${zero.url}/b`)).body.toString()).toBe('seen GET /b');
    const five = await startProxy({ upstreams: [{ dial: up.dial }], headers: { request: { set: { 'Content-Length': ['5'] } } } });
    expect((await fetchOutcome(`${five.url}/c`, { method: 'POST', body: 'hello' })).body.toString()).toBe('seen POST /c');
    expect(up.seen.map((q) => q.headers['content-length'])).toEqual(['0', '0', '5']);
  });
});
