/**
 * Real-socket plumbing for the proxy tests: a Ferry server running `reverseProxy` on 127.0.0.1,
 * real upstreams (node:http, node:http2, ws, raw node:net), real clients, and a cleanup list so
 * every server, session and socket a test opened is closed when it ends, whatever happened.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestOptions,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { connect as h2connect, type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocket, WebSocketServer, type ClientOptions } from 'ws';
import { createServer, type FerryServer, type HandlerInput, type ServerOptions } from '@ferry/core';
import { reverseProxy, type ReverseProxyConfig } from '../../src/index.js';
import { selfSigned } from '@ferry/test-kit/certs';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
export { defer, deferred };

/**
 * Resolves once `test()` holds, checked on a short poll: for state that settles on the far side
 * of a socket (a health checker's verdict, a server's bookkeeping) with no event to await.
 */
export async function eventually(test: () => boolean, withinMs = 3000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!test()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${withinMs}ms: ${test.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The self-signed certificate: the server's pair, and the CA a client trusts. */
export function certificates() {
  const { cert, key } = selfSigned();
  return { tls: { certificates: [{ cert, key }] }, ca: cert };
}

/** The options of `reverseProxy()`: the config, camelCased. */
export type ProxyOptions = NonNullable<Parameters<typeof reverseProxy>[0]>;

/**
 * A Ferry server on 127.0.0.1 whose only handler is `reverseProxy(options)` (after `before`
 * middlewares), logging nothing unless a logger is given, closed after the test.
 */
export async function startProxy(
  options: ProxyOptions,
  server: ServerOptions & { before?: readonly HandlerInput[] } = {},
): Promise<FerryServer> {
  const { before = [], ...rest } = server;
  const s = createServer({ listen: '127.0.0.1:0', logger: false, handler: [...before, reverseProxy(options)], ...rest });
  await s.listen();
  defer(() => s.close({ gracePeriod: 0 }));
  return s;
}

export type { ReverseProxyConfig };

export function portOf(server: FerryServer): number {
  return server.addresses[0]!.port;
}

export interface Upstream {
  server: HttpServer;
  port: number;
  /** `127.0.0.1:PORT`, for `dial`. */
  dial: string;
  /** Every request it saw, in order. */
  seen: IncomingMessage[];
}

/** A node:http upstream on 127.0.0.1; without a handler it answers 200 with its own name. */
export async function httpUpstream(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const seen: IncomingMessage[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req);
    if (handler) return handler(req, res);
    req.resume();
    res.setHeader('x-upstream', name);
    res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, dial: `127.0.0.1:${port}`, seen };
}

/** A raw TCP server on 127.0.0.1 whose connections `onSocket` handles byte by byte. */
export async function netUpstream(onSocket: (socket: Socket) => void): Promise<{ server: NetServer; port: number; dial: string }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r(undefined)));
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, dial: `127.0.0.1:${port}` };
}

/** A port with nothing listening on it: bound once, then released. */
export async function deadPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/1.1 request with node:http, the whole body collected. */
export async function get(url: string, options: RequestOptions & { body?: string | Buffer } = {}): Promise<Reply> {
  const { body, ...rest } = options;
  const req = httpRequest(url, { agent: false, ...rest });
  if (body !== undefined) req.end(body);
  else req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) };
}

/** Resolves when `res` ends cleanly, rejects when it is aborted or errors: never both. */
export function outcome(res: IncomingMessage): Promise<'end' | 'aborted'> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: 'end' | 'aborted') => {
      if (!settled) resolve(v);
      settled = true;
    };
    res.on('aborted', () => settle('aborted'));
    res.on('error', () => settle('aborted'));
    res.on('end', () => settle(res.complete ? 'end' : 'aborted'));
    res.on('close', () => settle(res.complete ? 'end' : 'aborted'));
    res.resume();
  });
}

/** An h2 (or h2c, for an http:// URL) session, connected, destroyed after the test. */
export async function h2Session(url: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = h2connect(url, options);
  defer(() => session.destroy());
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

/** A raw TCP client to 127.0.0.1, destroyed after the test. */
export async function rawClient(port: number): Promise<Socket> {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  defer(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Reads from `socket` until `until(buffered)` holds; resolves with everything read. */
export function readUntil(socket: Socket, until: (buf: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (until(buf)) {
        cleanup();
        resolve(buf);
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`socket ended after ${buf.length} bytes: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}

/** A pino logger whose JSON lines are captured in `lines` (the `logger` server option). */
export function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'debug', base: undefined }, sink), lines };
}

export interface WsUpstream {
  dial: string;
  port: number;
  wss: WebSocketServer;
  /** The handshake requests it accepted, in order. */
  handshakes: IncomingMessage[];
  /** Resolves with each server-side socket as it opens. */
  connected: Promise<WebSocket>;
  /** Close codes its sockets received from the proxy side. */
  closeCodes: number[];
}

/** A `ws` echo server (HTTP/1.1 upgrade) on 127.0.0.1: every message comes back as it was sent. */
export async function wsEchoUpstream(): Promise<WsUpstream> {
  const server = createHttpServer();
  const wss = new WebSocketServer({ server });
  const handshakes: IncomingMessage[] = [];
  const closeCodes: number[] = [];
  const first = deferred<WebSocket>();
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    first.resolve(ws);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => closeCodes.push(code));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  return { dial: `127.0.0.1:${port}`, port, wss, handshakes, connected: first.promise, closeCodes };
}

/** A `ws` client, terminated after the test; resolves once open. */
export async function wsClient(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  ws.on('error', () => {});
  defer(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

/** The Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}
