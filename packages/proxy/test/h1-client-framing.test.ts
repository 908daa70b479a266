/**
 * How the HTTP/1.1 upstream client delimits a response body: chunked coding at its edges, a body
 * delimited by the connection's close, one cut short, and the answers that have no body whatever
 * their Content-Length says (HEAD, 204, 304). A body is delivered byte-exact and complete, or the
 * client's response is aborted: never ended as if whole. The connection is reused exactly when the
 * framing says the answer ended on a message boundary.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startProxy } from './helpers/net.js';
import { chunked, fetchOutcome, outcomeOf, rawUpstream, sizedResponse, writeByteByByte } from './helpers/raw-h1.js';
import { h1Response } from '@ferry/test-kit/clients';
import { within } from '@ferry/test-kit/waiting';

const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n';

/** A proxy to an upstream that answers its first connection's requests with `first(nth)` and any later connection's with `later`. */
async function setup(first: (nth: number) => Buffer | string, later: Buffer | string = sizedResponse('fresh')) {
  const up = await rawUpstream((req, socket) => socket.write(req.conn === 0 ? first(req.nth) : later));
  const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
  return { up, proxy };
}

describe('a chunked response', () => {
  it('whose chunk data is longer than its size aborts the client response', async () => {
    const { up, proxy } = await setup(() => `${CHUNKED_HEAD}3\r\nabcdef\r\n0\r\n\r\n`);
    const r = await fetchOutcome(proxy.url);
    expect(r.status).toBe(200);
    expect(r.end).toBe('aborted');
    expect(r.body.toString()).toBe('abc'.slice(0, r.body.length));
    await within(up.conns[0]!.closed, 2000, 'the upstream connection closed');
  });

  it('with a chunk size of 16 hex digits is refused (502) or aborted, never complete', async () => {
    const { up, proxy } = await setup(() => `${CHUNKED_HEAD}0000000000000003\r\nabc\r\n0\r\n\r\n`);
    const r = await fetchOutcome(proxy.url);
    expect(r.status === 502 || (r.status === 200 && r.end === 'aborted')).toBe(true);
    expect(r.body.toString()).not.toContain('abc');
    await within(up.conns[0]!.closed, 2000, 'the upstream connection closed');
  });

  it.each([
    ['a size that is no hex number', '3x\r\nabc\r\n0\r\n\r\n'],
    ['a negative size', '-3\r\nabc\r\n0\r\n\r\n'],
    ['a bare LF after the size', '3\nabc\r\n0\r\n\r\n'],
    ['a bare CR in an extension', '3;a=\rb\r\nabc\r\n0\r\n\r\n'],
    ['no CRLF after the chunk data', '3\r\nabcX\n0\r\n\r\n'],
    ['a chunk line over 4 KiB', `3;${'a'.repeat(5000)}\r\nabc\r\n0\r\n\r\n`],
  ])('with %s is never delivered complete', async (_name, body) => {
    const { up, proxy } = await setup(() => `${CHUNKED_HEAD}${body}`);
    const r = await fetchOutcome(proxy.url);
    expect(r.status === 502 || (r.status === 200 && r.end === 'aborted')).toBe(true);
    await within(up.conns[0]!.closed, 2000, 'the upstream connection closed');
  });

  it('with chunk extensions and trailers is delivered whole, without the trailers, and its connection reused', async () => {
    const data = randomBytes(3000);
    const body = chunked(data, [1000, 7, 1993], ';a=b;name="quoted;value"', 'X-Checksum: abc\r\nX-Other: 1\r\n');
    const { up, proxy } = await setup((nth) => (nth === 0 ? Buffer.concat([Buffer.from(CHUNKED_HEAD), body]) : sizedResponse('second')));
    const r = await fetchOutcome(proxy.url);
    expect([r.status, r.end]).toEqual([200, 'end']);
    expect(r.body.equals(data)).toBe(true);
    expect(r.trailers).toEqual({});
    expect(r.headers['x-checksum']).toBeUndefined();
    const next = await fetchOutcome(proxy.url);
    expect(next.body.toString()).toBe('second');
    expect(up.conns).toHaveLength(1);
    expect(up.conns[0]!.requests).toHaveLength(2);
  });

  it('split into one TCP write per byte is delivered byte-exact', async () => {
    const data = randomBytes(1500);
    const wire = Buffer.concat([Buffer.from(CHUNKED_HEAD), chunked(data, [1, 2, 300, 17, 4096], ';x=y', 'X-T: 1\r\n')]);
    const up = await rawUpstream((req, socket) => {
      if (req.conn === 0) void writeByteByByte(socket, wire);
      else socket.write(sizedResponse('fresh'));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await fetchOutcome(proxy.url);
    expect([r.status, r.end]).toEqual([200, 'end']);
    expect(r.body.equals(data)).toBe(true);
    // The framing ended on a boundary: the same connection serves the next request.
    expect((await fetchOutcome(proxy.url)).status).toBe(200);
    expect(up.conns[0]!.requests).toHaveLength(2);
  });
});

describe('a response delimited by the connection closing', () => {
  it('is delivered whole, and the next request opens a new connection', async () => {
    const data = randomBytes(200 * 1024);
    const up = await rawUpstream((req, socket) => {
      if (req.conn > 0) return void socket.write(sizedResponse('fresh'));
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
      socket.end(data);
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await fetchOutcome(proxy.url);
    expect([r.status, r.end]).toEqual([200, 'end']);
    expect(r.body.equals(data)).toBe(true);
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('fresh');
    expect(up.conns).toHaveLength(2);
  });

  it('cut by a reset (not a close) aborts the client response: a reset does not end a body', async () => {
    const up = await rawUpstream((_req, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart of it'));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const res = await h1Response(proxy.url);
    expect(res.statusCode).toBe(200);
    const outcome = outcomeOf(res);
    // The reset once the client holds the first bytes: the failure is unmistakably mid-body.
    res.once('data', () => up.conns[0]!.socket.resetAndDestroy());
    const r = await within(outcome, 2000, 'the client response settled');
    expect(r.body.toString()).toBe('part of it');
    expect(r.end).toBe('aborted');
  });
});

describe('a response cut short', () => {
  it.each([
    ['closed', (s: Socket, bytes: string) => s.end(bytes)],
    ['destroyed', (s: Socket, bytes: string) => s.write(bytes, () => s.destroy())],
  ])('(Content-Length 10, 5 bytes, then the connection %s) aborts the client response', async (_name, cut) => {
    const up = await rawUpstream((_req, socket) => cut(socket, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello'));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await fetchOutcome(proxy.url);
    expect(r.status).toBe(200);
    expect(r.end).toBe('aborted');
    expect(r.body.length).toBeLessThanOrEqual(5);
  });

  it('(chunked, the close before the last chunk) aborts the client response', async () => {
    const up = await rawUpstream((_req, socket) => socket.end(`${CHUNKED_HEAD}5\r\nhello\r\n`));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await fetchOutcome(proxy.url);
    expect(r.status).toBe(200);
    expect(r.end).toBe('aborted');
  });
});

describe('an answer without a body whatever its Content-Length says', () => {
  it.each([
    ['HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n', 200],
    ['204', 'GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 100\r\n\r\n', 204],
    ['304', 'GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\nETag: "x"\r\n\r\n', 304],
    ['204 with Transfer-Encoding', 'GET', 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', 204],
  ])('(%s) is delivered at its head and its connection serves the next request', async (_name, method, head, status) => {
    const { up, proxy } = await setup((nth) => (nth === 0 ? head : sizedResponse('next')));
    const r = await within(fetchOutcome(proxy.url, { method }), 2000, 'the bodiless answer');
    expect([r.status, r.body.length, r.end]).toEqual([status, 0, 'end']);
    const next = await fetchOutcome(proxy.url);
    expect([next.status, next.body.toString()]).toEqual([200, 'next']);
    expect(up.conns).toHaveLength(1);
    expect(up.conns[0]!.requests.map((q) => q.method)).toEqual([method, 'GET']);
  });
});
