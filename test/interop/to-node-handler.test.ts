import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer as httpServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect as h2connect, createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createGunzip, gunzipSync } from 'node:zlib';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachUpgrades, ConfigError, type NodeListener, route, staticResponse, toNodeHandler } from '@ferry/core';
import { encode } from '@ferry/encode';
import { duplex, switchProtocols } from '@ferry/duplex';
import { reverseProxy } from '@ferry/proxy';
import { certificates } from '@ferry/test-kit/certs';
import { wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { encodeFrame, FrameReader } from '@ferry/test-kit/ws-frames';

/** Ferry mounted in a plain node:http server and in an Express 5 app, spoken to by real clients over 127.0.0.1. */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: Server | ReturnType<typeof createSecureServer>, ferry?: NodeListener): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    await ferry?.close({ gracePeriod: 0 });
    (server as Server).closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const GZIP = { 'accept-encoding': 'gzip' };
const BIG = { items: Array.from({ length: 300 }, (_, i) => ({ i, name: `item ${i}` })) };

describe('toNodeHandler: Ferry routes as a node:http listener', () => {
  it('serves its routes and error routes from http.createServer', async () => {
    const ferry = toNodeHandler({
      logger: false,
      routes: [
        { match: [{ path: ['/hello'] }], handle: [encode({ minimumLength: 1 }), staticResponse({ body: 'hello from ferry' })] },
        { match: [{ path: ['/fail'] }], handle: [staticResponse({ statusCode: 503, body: 'down' })] },
        route('GET', '/users/:id', async (req, res) => {
          res.setCookie('id', req.params.id);
          res.end(`user ${req.params.id}`);
        }),
      ],
    });
    await ferry.ready;
    const port = await listen(httpServer(ferry), ferry);
    const hello = await get(port, '/hello', GZIP);
    expect(hello.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(hello.body).toString()).toBe('hello from ferry');
    expect((await get(port, '/fail')).status).toBe(503);
    const user = await get(port, '/users/a%2Fb');
    expect(user.body.toString()).toBe('user a/b');
    expect(user.headers['set-cookie']).toEqual(['id=a%2Fb; Path=/; HttpOnly; SameSite=Lax']);
    // Nothing matched: Ferry's own answer, the empty 200 (no next() in a plain server).
    const none = await get(port, '/none');
    expect([none.status, none.body.length]).toEqual([200, 0]);
  });

  it('serves h2 from http2.createSecureServer, onHead and 1xx included', async () => {
    const { ca, tls } = certificates();
    const ferry = toNodeHandler({
      logger: false,
      handler: [
        async (req, res) => {
          res.onHead(() => res.setHeader('server-timing', 'app;dur=1'));
          res.writeInformational(103, { link: '</a.css>; rel=preload' });
          res.end(`over ${req.protocol}`);
        },
      ],
    });
    const port = await listen(createSecureServer({ ...tls.certificates[0]!, allowHTTP1: true }, ferry), ferry);
    const session = h2connect(`https://127.0.0.1:${port}`, { ca });
    cleanups.push(() => session.close());
    const stream = session.request({ ':path': '/' });
    const early = new Promise<Record<string, unknown>>((resolve) => stream.once('headers', resolve));
    const [head] = (await once(stream, 'response')) as [Record<string, string>];
    let body = '';
    for await (const c of stream) body += c;
    expect((await early)[':status']).toBe(103);
    expect(head['server-timing']).toBe('app;dur=1');
    expect(body).toBe('over h2');
  });

  it('refuses options that belong to a listening server, and reports a bad config through ready and next(err)', async () => {
    expect(() => toNodeHandler({ listen: ':80' } as never)).toThrow(/"listen" does not apply/);
    const ferry = toNodeHandler({ logger: false, routes: [{ handle: [{ handler: 'static_response', status_code: 'often' }] }] });
    await expect(ferry.ready).rejects.toBeInstanceOf(ConfigError);
    const app = express();
    app.use(ferry);
    app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send(`express saw: ${(err as Error).name}`);
    });
    const port = await listen(httpServer(app));
    const r = await get(port, '/');
    expect([r.status, r.body.toString()]).toEqual([500, 'express saw: ConfigError']);
  });
});

describe("toNodeHandler keeps what Ferry's own server gives handlers", () => {
  it('req.signal aborts within a second of the client leaving', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let aborted!: (at: number) => void;
    const abortedAt = new Promise<number>((resolve) => (aborted = resolve));
    const ferry = toNodeHandler({
      logger: false,
      handler: async (req) => {
        entered();
        await once(req.signal, 'abort');
        aborted(Date.now());
      },
    });
    const port = await listen(httpServer(ferry), ferry);
    const req = request({ host: '127.0.0.1', port, path: '/wait' });
    req.on('error', () => {});
    req.end();
    await inside;
    const left = Date.now();
    req.destroy();
    expect((await abortedAt) - left).toBeLessThan(1000);
  });

  it('full duplex over HTTP/1.1: each line is answered before the request body ends', async () => {
    const ferry = toNodeHandler({
      logger: false,
      enableFullDuplex: true,
      handler: duplex(async ({ body, write }) => {
        for await (const chunk of body) await write(`echo ${chunk}`);
      }),
    });
    const port = await listen(httpServer(ferry), ferry);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'transfer-encoding': 'chunked' } });
    req.write('one');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const answers: string[] = [];
    for await (const chunk of res) {
      answers.push(String(chunk));
      if (answers.length === 1) req.write('two');
      else req.end();
    }
    expect(answers).toEqual(['echo one', 'echo two']);
  });

  it('a takeover through attachUpgrades gets the bytes sent with the handshake first', async () => {
    const ferry = toNodeHandler({
      logger: false,
      handler: async (_req, res) => {
        const conn = switchProtocols(res, 'echo');
        conn.pipe(conn);
      },
    });
    const server = httpServer(ferry);
    attachUpgrades(server, ferry);
    const port = await listen(server, ferry);
    const sock = connect(port, '127.0.0.1');
    cleanups.push(() => sock.destroy());
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nsent along');
    let got = '';
    for await (const c of sock) {
      got += c;
      if (got.endsWith('sent along')) break;
    }
    expect(got).toMatch(/^HTTP\/1\.1 101 [\s\S]*\r\n\r\nsent along$/);
  });
});

describe('toNodeHandler as Express middleware', () => {
  function expressWithFerry(ferry: NodeListener) {
    const app = express();
    app.use(ferry);
    app.get('/data', (_req, res) => res.json(BIG));
    app.get('/events', (req, res) => {
      res.setHeader('content-type', 'text/event-stream');
      res.setHeader('cache-control', 'no-cache');
      res.flushHeaders();
      // One event now, and one more each time the test asks (after it decoded the last one).
      let n = 0;
      const send = () => res.write(`data: ${++n} ${performance.now()}\n\n`);
      sendNext = send;
      req.on('close', () => {
        if (sendNext === send) sendNext = undefined;
      });
      send();
    });
    return app;
  }
  let sendNext: (() => void) | undefined;

  it('what Ferry does not answer falls through to Express routes, compressed by Ferry encode', async () => {
    const ferry = toNodeHandler({
      logger: false,
      routes: [
        { handle: [encode({ minimumLength: 1 })] },
        route('GET', '/ferry/:name', async (req, res) => {
          res.end(`ferry ${req.params.name}`);
        }),
      ],
    });
    const port = await listen(httpServer(expressWithFerry(ferry)), ferry);
    const own = await get(port, '/ferry/x', GZIP);
    expect(gunzipSync(own.body).toString()).toBe('ferry x');
    const data = await get(port, '/data', GZIP);
    expect(data.status).toBe(200);
    expect(data.headers['content-encoding']).toBe('gzip');
    expect(data.headers['x-powered-by']).toBe('Express');
    expect(JSON.parse(gunzipSync(data.body).toString())).toEqual(BIG);
    const missing = await get(port, '/missing', GZIP);
    expect(missing.status).toBe(404); // Express's own 404, through encode
  });

  it('a body an Express body parser read before Ferry: a route that needs it gets a 500 at once (no hang, nothing forwarded); one that does not, works', async () => {
    const upstreamHits: string[] = [];
    const up = httpServer((req, res) => {
      upstreamHits.push(req.url ?? '');
      res.end('upstream');
    });
    const upPort = await listen(up);
    const ferry = toNodeHandler({
      logger: false,
      routes: [
        { match: [{ path: ['/api/*'] }], handle: [reverseProxy({ upstreams: [{ dial: `127.0.0.1:${upPort}` }] })], terminal: true },
        { handle: [encode({ minimumLength: 1 })] },
      ],
    });
    const app = express();
    app.use(express.json());
    app.use(ferry);
    app.post('/echo', (req, res) => res.json({ got: req.body }));
    const port = await listen(httpServer(app), ferry);
    const post = (path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
        body: '{"a":1}',
        signal: AbortSignal.timeout(5000),
      });
    const proxied = await post('/api/x');
    expect(proxied.status).toBe(500);
    expect(upstreamHits).toEqual([]);
    const echoed = await post('/echo');
    expect(echoed.headers.get('content-encoding')).toBe('gzip');
    expect(await echoed.json()).toEqual({ got: { a: 1 } });
  });

  it('middleware before Ferry that patched res.writeHead (as on-headers does for morgan) still runs, and encode still applies', async () => {
    const ferry = toNodeHandler({ logger: false, handler: [encode({ minimumLength: 1 })] });
    const app = express();
    app.use((_req, res, next) => {
      const writeHead = res.writeHead;
      res.writeHead = function (this: typeof res, ...args: Parameters<typeof res.writeHead>) {
        this.setHeader('x-response-time', '1ms');
        return writeHead.apply(this, args);
      } as typeof res.writeHead;
      next();
    });
    app.use(ferry);
    app.get('/data', (_req, res) => res.json(BIG));
    const port = await listen(httpServer(app), ferry);
    const data = await get(port, '/data', GZIP);
    expect(data.headers['x-response-time']).toBe('1ms');
    expect(data.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(data.body).toString())).toEqual(BIG);
  });

  it('an Express event stream behind Ferry encode: the head at once, and every event flushed as it is written', async () => {
    const ferry = toNodeHandler({ logger: false, handler: [encode({ minimumLength: 1 })] });
    const port = await listen(httpServer(expressWithFerry(ferry)), ferry);
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/events', headers: GZIP });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const headMs = performance.now() - started;
    expect(res.headers['content-encoding']).toBe('gzip');
    const gunzip = createGunzip();
    res.pipe(gunzip);
    // Each event is written only after the one before it was decoded here, so an event that
    // arrives at all was flushed by itself: nothing written after it pushed it out.
    let text = '';
    const delays: number[] = [];
    for await (const chunk of gunzip) {
      text += chunk;
      for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n')) {
        delays.push(performance.now() - Number(text.slice(0, i).split(' ')[2]));
        text = text.slice(i + 2);
      }
      if (delays.length >= 5) break;
      sendNext?.();
    }
    req.destroy();
    console.log(
      `[interop] Express SSE behind encode: head ${headMs.toFixed(1)} ms, events decoded ${delays.map((d) => d.toFixed(1)).join(', ')} ms after being written`,
    );
    expect(delays).toHaveLength(5);
    // Generous bounds (a loaded CI machine); the figures printed above are the measurement.
    expect(headMs).toBeLessThan(1000);
    for (const d of delays) expect(d).toBeLessThan(1000);
  });

  it('reverse_proxy WebSockets inside Express with attachUpgrades: the first frame in the Upgrade write, 1,000 messages byte for byte', async () => {
    const up = await wsEchoUpstream();
    const ferry = toNodeHandler({
      logger: false,
      routes: [{ match: [{ path: ['/ws/*'] }], handle: [reverseProxy({ upstreams: [{ dial: up.dial }] })] }],
    });
    const server = httpServer(expressWithFerry(ferry));
    attachUpgrades(server, ferry);
    const port = await listen(server, ferry);

    const key = randomBytes(16).toString('base64');
    const sock = connect(port, '127.0.0.1');
    cleanups.push(() => sock.destroy());
    await once(sock, 'connect');
    sock.write(
      Buffer.concat([
        Buffer.from(
          `GET /ws/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
        encodeFrame('first frame, same write', { mask: true }),
      ]),
    );
    let buf = Buffer.alloc(0);
    const reader = new FrameReader();
    let frames: ReturnType<FrameReader['push']> = [];
    for await (const c of sock) {
      buf = Buffer.concat([buf, c as Buffer]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) continue;
      frames = reader.push(buf.subarray(end + 4));
      buf = buf.subarray(0, end + 4);
      if (frames.length > 0) break;
    }
    expect(buf.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    expect(frames[0]!.payload.toString()).toBe('first frame, same write');

    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/soak`);
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    const sent = Array.from({ length: 1000 }, () => randomBytes(randomInt(1, 16 * 1024)));
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        received.push(data);
        if (received.length === sent.length) resolve();
      }),
    );
    for (const m of sent) ws.send(m, { binary: true });
    await done;
    expect(received.every((r, i) => r.equals(sent[i]!))).toBe(true);
    // Express's own routes still answer on the same server.
    expect((await get(port, '/data')).status).toBe(200);
  });
});
