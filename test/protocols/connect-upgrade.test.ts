import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import type { Handler } from '@ferry/core';
import { h1Request, h2Answer, rawSocket, remoteSettings, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { eventually } from '@ferry/test-kit/waiting';

interface Seen {
  method: string;
  url: string;
  isConnect: boolean;
  upgrade: string | undefined;
  extendedConnectProtocol: string | undefined;
  authority: string;
  canHijack: boolean;
}

/**
 * A tunnel handler: answers a CONNECT with 200 and echoes what the client sends. On HTTP/1.1 the
 * tunnel is the raw connection (hijack); on h2 it is the stream itself, full duplex.
 */
function tunnel() {
  const seen: Seen[] = [];
  const handler: Handler = async (req, res) => {
    seen.push({
      method: req.method,
      url: req.url,
      isConnect: req.isConnect,
      upgrade: req.upgrade,
      extendedConnectProtocol: req.extendedConnectProtocol,
      authority: req.authority,
      canHijack: typeof res.hijack === 'function',
    });
    if (!req.isConnect) {
      res.end('not a tunnel');
      return;
    }
    res.writeHead(200);
    res.flush();
    if (res.hijack) {
      const conn = res.hijack();
      conn.pipe(conn);
      return;
    }
    for await (const chunk of req.body) res.write(chunk);
    res.end();
  };
  return { seen, handler };
}

/** Writes `text` on an h2 stream and waits until the same bytes come back. */
async function echoes(stream: ClientHttp2Stream, text: string): Promise<string> {
  let got = '';
  const done = new Promise<void>((resolve) => {
    const onData = (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) {
        stream.off('data', onData);
        resolve();
      }
    };
    stream.on('data', onData);
  });
  stream.write(text);
  await done;
  return got;
}

describe('CONNECT reaches the handler chain', () => {
  it('on HTTP/1.1: the handler sees isConnect, answers 200 and tunnels both ways', async () => {
    const t = tunnel();
    const server = await startServer({ handler: t.handler });
    const client = await rawSocket(portOf(server));
    client.socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const { head } = await client.head();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    // RFC 9110 §9.3.6: a 2xx answer to CONNECT carries no Content-Length or Transfer-Encoding.
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    expect(head.toLowerCase()).not.toContain('content-length');
    const mark = client.received.length;
    client.socket.write('ping through the tunnel');
    await client.until((b) => b.subarray(mark).toString() === 'ping through the tunnel');
    expect(t.seen).toEqual([
      {
        method: 'CONNECT',
        url: 'example.com:443',
        isConnect: true,
        upgrade: undefined,
        extendedConnectProtocol: undefined,
        authority: 'example.com:443',
        canHijack: true,
      },
    ]);
  });

  it('on HTTP/1.1 through node:http: the client gets its "connect" event and a working tunnel', async () => {
    const t = tunnel();
    const server = await startServer({ handler: t.handler });
    const req = httpRequest({ host: '127.0.0.1', port: portOf(server), method: 'CONNECT', path: 'example.com:443', agent: false });
    req.end();
    const [res, socket] = (await once(req, 'connect')) as [IncomingMessage, import('node:net').Socket, Buffer];
    expect(res.statusCode).toBe(200);
    socket.write('hello');
    const [echo] = (await once(socket, 'data')) as [Buffer];
    expect(echo.toString()).toBe('hello');
    socket.destroy();
  });

  it('on h2 (classic CONNECT, :authority only): the handler sees isConnect and streams both ways', async () => {
    const { ca, tls: certs } = certificates();
    const t = tunnel();
    const server = await startServer({ tls: certs, handler: t.handler });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false });
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    expect(headers[':status']).toBe(200);
    expect(await echoes(stream, 'first')).toBe('first');
    expect(await echoes(stream, 'second')).toBe('second');
    stream.end();
    await once(stream, 'end');
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0]).toMatchObject({
      method: 'CONNECT',
      isConnect: true,
      extendedConnectProtocol: undefined,
      authority: 'example.com:443',
      canHijack: false,
    });
  });

  it('on h2 (extended CONNECT, :protocol websocket): the handler sees extendedConnectProtocol and streams both ways', async () => {
    const { ca, tls: certs } = certificates();
    const t = tunnel();
    const server = await startServer({ tls: certs, handler: t.handler });
    const session = await h2Session(server.url, { ca });
    await remoteSettings(session);
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/chat?room=1',
        ':authority': 'localhost',
        'sec-websocket-version': '13',
      },
      { endStream: false },
    );
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    expect(headers[':status']).toBe(200);
    expect(await echoes(stream, 'frame-1')).toBe('frame-1');
    stream.end();
    await once(stream, 'end');
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0]).toMatchObject({
      method: 'CONNECT',
      isConnect: true,
      extendedConnectProtocol: 'websocket',
      url: '/chat?room=1',
      canHijack: false,
    });
  });

  it('on h2c (extended CONNECT): the same path as h2', async () => {
    const t = tunnel();
    const server = await startServer({ protocols: ['h1', 'h2c'], handler: t.handler });
    const session = await h2Session(server.url);
    await remoteSettings(session);
    const stream = session.request(
      { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/ws', ':authority': 'localhost' },
      { endStream: false },
    );
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    expect(headers[':status']).toBe(200);
    expect(await echoes(stream, 'over h2c')).toBe('over h2c');
    stream.end();
    await once(stream, 'end');
    expect(t.seen[0]).toMatchObject({ isConnect: true, extendedConnectProtocol: 'websocket' });
  });
});

describe('a CONNECT nothing handles', () => {
  it('gets 501 on HTTP/1.1, and the connection is closed after it', async () => {
    const server = await startServer({ routes: [] });
    const client = await rawSocket(portOf(server));
    client.socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    const { head } = await client.head();
    expect(head).toMatch(/^HTTP\/1\.1 501 /);
    await client.end();
    await eventually(() => server.activeRequests === 0, 1000);
  });

  it('gets 501 on h2, classic and extended', async () => {
    const { ca, tls: certs } = certificates();
    const server = await startServer({ tls: certs, routes: [] });
    const session = await h2Session(server.url, { ca });
    await remoteSettings(session);
    const classic = await h2Answer(session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false }));
    expect(classic.status).toBe(501);
    const extended = await h2Answer(
      session.request(
        { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': 'localhost' },
        { endStream: false },
      ),
    );
    expect(extended.status).toBe(501);
  });
});

describe('an Upgrade request the handler does not take over', () => {
  it('reaches the handler with req.upgrade lower-cased and gets an ordinary response (raw HTTP/1.1)', async () => {
    const t = tunnel();
    const server = await startServer({ handler: t.handler });
    const client = await rawSocket(portOf(server));
    client.socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n');
    const { head } = await client.head();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    await client.end();
    expect(client.text.endsWith('not a tunnel')).toBe(true);
    expect(t.seen).toEqual([
      {
        method: 'GET',
        url: '/ws',
        isConnect: false,
        upgrade: 'websocket',
        extendedConnectProtocol: undefined,
        authority: 'localhost',
        canHijack: true,
      },
    ]);
    await eventually(() => server.activeRequests === 0, 1000);
  });

  it('gets an ordinary response through node:http with a custom token', async () => {
    const t = tunnel();
    const server = await startServer({ handler: t.handler });
    const answer = await h1Request({
      host: '127.0.0.1',
      port: portOf(server),
      path: '/x',
      headers: { connection: 'upgrade', upgrade: 'My-Proto/2' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('not a tunnel');
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(t.seen[0]!.upgrade).toBe('my-proto/2');
  });

  it('gets an ordinary response on the HTTP/1.1 fallback of a TLS h2 server', async () => {
    const { ca, tls: certs } = certificates();
    const t = tunnel();
    const server = await startServer({ tls: certs, handler: t.handler });
    const answer = await h1Request({
      secure: true,
      host: '127.0.0.1',
      port: portOf(server),
      path: '/u',
      ca,
      ALPNProtocols: ['http/1.1'],
      headers: { connection: 'upgrade', upgrade: 'websocket' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('not a tunnel');
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0]).toMatchObject({ upgrade: 'websocket', canHijack: true });
  });

  it('an error thrown for it becomes an ordinary error response', async () => {
    const server = await startServer({
      handler: async () => {
        throw new Error('boom');
      },
    });
    const answer = await h1Request({
      host: '127.0.0.1',
      port: portOf(server),
      path: '/',
      headers: { connection: 'upgrade', upgrade: 'websocket' },
    });
    expect(answer.status).toBe(500);
    expect(answer.body.toString()).toBe('Internal Server Error\n');
  });
});
