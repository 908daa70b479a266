/**
 * Real-socket plumbing of the duplex tests' own (the shared pieces are in @ferry/test-kit): raw
 * TCP clients and an HTTP/1.1 response parser, a collecting logger, and the server starter bound
 * to @ferry/core's createServer.
 */
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createServer } from '@ferry/core';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { serverStarter } from '@ferry/test-kit/servers';
export { defer, deferred };

/** A started Ferry server on 127.0.0.1, logging nothing unless told, closed after the test. */
export const startServer = serverStarter(createServer);

/** A pino logger at trace level whose every line is kept, parsed, in `entries`. */
export function collectingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) entries.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), entries };
}

/** A raw TCP connection to a Ferry server, every byte it receives kept in order. */
export async function rawSocket(url: string): Promise<{
  socket: Socket;
  received: () => Buffer;
  closed: Promise<void>;
  waitFor: (test: (all: Buffer) => boolean, ms?: number) => Promise<Buffer>;
}> {
  const { hostname, port } = new URL(url);
  const socket = netConnect(Number(port), hostname);
  socket.on('error', () => {});
  defer(() => socket.destroy());
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  const waiters = new Set<() => void>();
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    for (const w of waiters) w();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received = () => Buffer.concat(chunks);
  const waitFor = (test: (all: Buffer) => boolean, ms = 3000) =>
    new Promise<Buffer>((resolve, reject) => {
      const finish = (err?: Error) => {
        waiters.delete(check);
        socket.off('close', check);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(received());
      };
      const so = () => JSON.stringify(received().toString('latin1').slice(0, 300));
      const timer = setTimeout(() => finish(new Error(`raw socket: condition not met within ${ms}ms; received ${so()}`)), ms);
      const check = () => {
        if (test(received())) finish();
        else if (socket.destroyed) finish(new Error(`raw socket closed; received ${so()}`));
      };
      waiters.add(check);
      socket.once('close', check);
      check();
    });
  return { socket, received, closed, waitFor };
}

/** A parsed HTTP/1.1 response out of raw bytes (Content-Length or chunked bodies), and what follows it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  rest: Buffer;
}

/** Parses one complete response at the start of `data`, or returns undefined when more bytes are needed. */
export function parseResponse(data: Buffer): RawResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(statusLine!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let at = end + 4;
  if (status < 200) return { status, headers, body: Buffer.alloc(0), rest: data.subarray(at) };
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const nl = data.indexOf('\r\n', at);
      if (nl === -1) return undefined;
      const size = parseInt(data.subarray(at, nl).toString('latin1'), 16);
      if (data.length < nl + 2 + size + 2) return undefined;
      parts.push(data.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
      if (size === 0) return { status, headers, body: Buffer.concat(parts), rest: data.subarray(at) };
    }
  }
  const len = Number(headers['content-length'] ?? 0);
  if (data.length < at + len) return undefined;
  return { status, headers, body: data.subarray(at, at + len), rest: data.subarray(at + len) };
}

/** Every complete response in `data`, in order (1xx included). */
export function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let r: RawResponse | undefined;
  while (data.length > 0 && (r = parseResponse(data))) {
    out.push(r);
    data = r.rest;
  }
  return out;
}

/** Counts `process` warnings emitted while the test runs. */
export function captureWarnings(): Error[] {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  defer(() => process.off('warning', onWarning));
  return warnings;
}
