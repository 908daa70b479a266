/**
 * Real-socket plumbing of the proxy tests' own (the shared pieces, upstreams and clients among
 * them, are in @ferry/test-kit): a Ferry server running `reverseProxy` on 127.0.0.1, a raw TCP
 * upstream and client, a `ws` client, and a logger whose lines a test reads.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect as netConnect, createServer as createNetServer, Socket, type AddressInfo, type Server as NetServer } from 'node:net';
import { pino, type Logger } from 'pino';
import { WebSocket, type ClientOptions } from 'ws';
import { createServer, type FerryServer, type HandlerInput, type ServerOptions } from '@ferry/core';
import { reverseProxy, type ReverseProxyConfig } from '../../src/index.js';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { logLines } from '@ferry/test-kit/logs';
import { serverStarter } from '@ferry/test-kit/servers';
export { defer, deferred };

/** A started Ferry server on 127.0.0.1, logging nothing unless a logger is given, closed after the test. */
export const startServer = serverStarter(createServer);

/** The options of `reverseProxy()`: the config, camelCased. */
export type ProxyOptions = NonNullable<Parameters<typeof reverseProxy>[0]>;

/**
 * A Ferry server on 127.0.0.1 whose only handler is `reverseProxy(options)` (after `before`
 * middlewares), logging nothing unless a logger is given, closed after the test.
 */
export function startProxy(options: ProxyOptions, server: ServerOptions & { before?: readonly HandlerInput[] } = {}): Promise<FerryServer> {
  const { before = [], ...rest } = server;
  return startServer({ handler: [...before, reverseProxy(options)], ...rest });
}

export type { ReverseProxyConfig };

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
  const { stream, lines } = logLines();
  return { logger: pino({ level: 'debug', base: undefined }, stream), lines };
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

/**
 * The bytes of each write Node hands the kernel (one `_write` or `_writev`) on the sockets `which`
 * picks, until the test ends: how many writes a message took.
 */
export function socketWrites(which: (socket: Socket) => boolean): number[] {
  const writes: number[] = [];
  const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => void>;
  const { _write: write, _writev: writev } = proto;
  defer(() => Object.assign(proto, { _write: write, _writev: writev }));
  proto._write = function (this: Socket, chunk, ...rest) {
    if (which(this)) writes.push((chunk as Buffer).length);
    return write.call(this, chunk, ...rest);
  };
  proto._writev = function (this: Socket, chunks, ...rest) {
    if (which(this)) writes.push((chunks as { chunk: Buffer }[]).reduce((n, c) => n + c.chunk.length, 0));
    return writev.call(this, chunks, ...rest);
  };
  return writes;
}
