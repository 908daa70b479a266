/**
 * When the HTTP/1.1 upstream client reuses a kept connection, and when it must not: an upstream
 * that closed a kept connection just as a request went out on it (the idle-close race) costs a
 * bodiless request one retry on a new connection, but a request with a body is never sent twice;
 * a connection that speaks while idle is dropped; idle connections close after idle_timeout.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defer, netUpstream, startProxy } from './helpers/net.js';
import { fetchOutcome, outcomeOf, rawUpstream, sizedResponse } from './helpers/raw-h1.js';
import { within } from '@ferry/test-kit/waiting';

/**
 * An upstream whose first connection answers its first request (kept alive) and then closes on
 * reading its second without a word (`close`); later connections answer `fresh N`.
 */
async function closingOnSecond(close: (socket: Socket) => void = (s) => s.destroy()) {
  const up = await rawUpstream((req, socket) => {
    if (req.conn > 0) socket.write(sizedResponse(`fresh ${req.conn}`));
    else if (req.nth === 0) socket.write(sizedResponse('first'));
    else close(socket);
  });
  const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
  expect((await fetchOutcome(proxy.url)).body.toString()).toBe('first');
  return { up, proxy };
}

describe('a kept connection the upstream closes as a request goes out on it', () => {
  it.each([
    ['closes it', (s: Socket) => s.destroy()],
    ['resets it', (s: Socket) => s.resetAndDestroy()],
  ])('(it %s) costs a GET one retry on a new connection: 200', async (_name, close) => {
    const { up, proxy } = await closingOnSecond(close);
    const r = await fetchOutcome(`${proxy.url}/again`);
    expect([r.status, r.body.toString(), r.end]).toEqual([200, 'fresh 1', 'end']);
    expect(up.conns).toHaveLength(2);
    expect(up.conns[0]!.requests.map((q) => q.target)).toEqual(['/', '/again']);
    expect(up.conns[1]!.requests.map((q) => q.target)).toEqual(['/again']);
  });

  it('fails a POST with a body with 502, and the POST reached the upstream once', async () => {
    const { up, proxy } = await closingOnSecond();
    const r = await fetchOutcome(`${proxy.url}/order`, { method: 'POST', body: 'buy 1', headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(502);
    const posts = up.requests.filter((q) => q.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body.toString()).toBe('buy 1');
    expect(up.conns).toHaveLength(1);
    // Still once, after the proxy is done with it (no late retry either).
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('fresh 1');
    expect(up.requests.filter((q) => q.method === 'POST')).toHaveLength(1);
  });

  it('is retried once only: a GET whose retry meets a close too gets 502, sent twice in all', async () => {
    // The first connection answers its first request and closes on its second; later ones close on their first.
    const up = await rawUpstream((req, socket) =>
      req.conn === 0 && req.nth === 0 ? socket.write(sizedResponse('first')) : socket.destroy(),
    );
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('first');
    expect((await fetchOutcome(`${proxy.url}/again`)).status).toBe(502);
    expect(up.requests.map((q) => `${q.conn}${q.target}`)).toEqual(['0/', '0/again', '1/again']);
    expect(up.conns).toHaveLength(2);
  });
});

describe('an idle kept connection', () => {
  it('that receives bytes nobody asked for is dropped; the next request gets its own answer on a new connection', async () => {
    const up = await rawUpstream((req, socket) => socket.write(sizedResponse(`answer ${req.conn}.${req.nth}`)));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('answer 0.0');
    // The client has the whole answer, so the connection is back in the pool: now it speaks unasked.
    up.conns[0]!.socket.write(sizedResponse('unsolicited'));
    await within(up.conns[0]!.closed, 2000, 'the idle connection dropped by the proxy');
    const r = await fetchOutcome(proxy.url);
    expect([r.status, r.body.toString()]).toEqual([200, 'answer 1.0']);
    expect(up.conns).toHaveLength(2);
  });

  it('that the upstream closes is not used again', async () => {
    const up = await rawUpstream((req, socket) => socket.write(sizedResponse(`answer ${req.conn}.${req.nth}`)));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('answer 0.0');
    up.conns[0]!.socket.end();
    await within(up.conns[0]!.closed, 2000, 'the closed idle connection closed by the proxy too');
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('answer 1.0');
    expect(up.conns[0]!.requests).toHaveLength(1);
  });

  it('is closed after idle_timeout, and not before', async () => {
    const up = await rawUpstream((req, socket) => socket.write(sizedResponse(`answer ${req.conn}.${req.nth}`)));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { keepAlive: { idleTimeout: '200ms' } } });
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('answer 0.0');
    const idleFrom = performance.now();
    // Reused while young.
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('answer 0.1');
    const lastUse = performance.now();
    await within(up.conns[0]!.closed, 2000, 'the idle connection closed after idle_timeout');
    expect(performance.now() - lastUse).toBeGreaterThanOrEqual(190);
    expect(performance.now() - idleFrom).toBeLessThan(1500);
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('answer 1.0');
  });
});

describe('an answer that says the connection ends', () => {
  it.each([
    ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ['HTTP/1.0 with Connection: keep-alive', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'],
    ['close in a list, upper case', 'HTTP/1.1 200 OK\r\nConnection: Keep-Alive,  CLOSE \r\nContent-Length: 2\r\n\r\nok'],
    ['close in a second Connection field', 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'],
  ])('(%s) is delivered, and its connection is not used again', async (_name, answer) => {
    const up = await rawUpstream((req, socket) => socket.write(req.conn === 0 ? answer : sizedResponse('fresh')));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await fetchOutcome(proxy.url);
    expect([r.status, r.body.toString(), r.end]).toEqual([200, 'ok', 'end']);
    await within(up.conns[0]!.closed, 2000, 'the connection closed by the proxy');
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('fresh');
    expect(up.conns[0]!.requests).toHaveLength(1);
  });

  it('(a Connection token that only contains the word close) is delivered, and its connection is used again', async () => {
    const answer = 'HTTP/1.1 200 OK\r\nConnection: keep-alive, x-closed\r\nContent-Length: 2\r\n\r\nok';
    const up = await rawUpstream((req, socket) => socket.write(req.nth === 0 ? answer : sizedResponse('again')));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await fetchOutcome(proxy.url);
    expect([r.status, r.body.toString(), r.end]).toEqual([200, 'ok', 'end']);
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('again');
    expect(up.conns).toHaveLength(1);
    expect(up.conns[0]!.requests).toHaveLength(2);
  });
  it('(Connection: close) sends the next POST on a new connection, even before the upstream closed the old one', async () => {
    // The first connection closes only on reading a second request: what a client that reused it would meet.
    const up = await rawUpstream((req, socket) => {
      if (req.conn > 0) socket.write(sizedResponse(`fresh ${req.body}`));
      else if (req.nth === 0) socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('ok');
    const r = await fetchOutcome(proxy.url, { method: 'POST', body: 'order' });
    expect([r.status, r.body.toString()]).toEqual([200, 'fresh order']);
    expect(up.requests.map((q) => `${q.conn} ${q.method}`)).toEqual(['0 GET', '1 POST']);
  });
});

describe('an answer that comes before the request body was all sent', () => {
  /** An upstream that answers `answer` as soon as it has a request's head, before the body. */
  async function earlyAnswering(answer: (conn: number) => string) {
    const sockets: Socket[] = [];
    const up = await netUpstream((socket) => {
      const conn = sockets.push(socket) - 1;
      let head = '';
      const onData = (c: Buffer) => {
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        socket.write(answer(conn));
        socket.resume(); // the body is read and dropped
      };
      socket.on('data', onData);
    });
    return { ...up, sockets };
  }

  /** A POST of 8 MiB written in 64 KiB pieces as fast as the proxy takes them; resolves at the response. */
  function bigUpload(url: string): Promise<IncomingMessage> {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-length': 8 * 1024 * 1024 } });
    req.on('error', () => {});
    defer(() => req.destroy());
    // Resolves at 'drain', or at 'close' once the proxy stopped taking the upload.
    const writable = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    void (async () => {
      const piece = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 128 && !req.destroyed; i++) if (!req.write(piece)) await writable();
      if (!req.destroyed) req.end();
    })();
    return once(req, 'response').then(([res]) => res as IncomingMessage);
  }

  it('reaches the client (413), and the connection is not used again', async () => {
    const up = await earlyAnswering((conn) =>
      conn === 0
        ? 'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big!'
        : 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh',
    );
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const res = await within(bigUpload(proxy.url), 3000, 'the early answer at the client');
    const r = await within(outcomeOf(res), 3000, 'the early answer read');
    expect([r.status, r.body.toString()]).toEqual([413, 'too big!']);
    // Kept alive by its answer, but the upload was not over: the connection is out of step.
    await within(new Promise((resolve) => up.sockets[0]!.once('close', resolve)), 2000, 'the connection closed by the proxy');
    expect((await fetchOutcome(proxy.url)).body.toString()).toBe('fresh');
    expect(up.sockets).toHaveLength(2);
  });
});
