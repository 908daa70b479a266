/**
 * Real-socket plumbing for the duplex tests: Ferry servers on 127.0.0.1 with ephemeral ports, real
 * clients (node:http, node:http2, raw node:net), a ping-pong driver with a deadline, and a cleanup
 * list so every server, session and socket a test opened is closed when it ends, whatever happened.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect as h2connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { createServer, type FerryServer, type ServerOptions } from '@ferry/core';
import { selfSigned } from '@ferry/test-kit/certs';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
export { defer, deferred };

/** Rejects after `ms` with a message naming what was awaited. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms}ms`)), ms))),
  ]);
}

/** The self-signed certificate: the server's pair, and the CA a client trusts. */
export function certificates() {
  const { cert, key } = selfSigned();
  return { tls: { certificates: [{ cert, key }] }, ca: cert };
}

/** A started Ferry server on 127.0.0.1, logging nothing unless told, closed after the test. */
export async function startServer(options: ServerOptions): Promise<FerryServer> {
  const server = createServer({ listen: '127.0.0.1:0', logger: false, ...options });
  await server.listen();
  defer(() => server.close({ gracePeriod: 0 }));
  return server;
}

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

/** An h2 (TLS, when `ca` is given) or h2c session, closed after the test. */
export function h2session(url: string, ca?: Buffer): ClientHttp2Session {
  const session = h2connect(url, ca ? { ca } : {});
  session.on('error', () => {});
  defer(() => session.destroy());
  return session;
}

/** One end of a streaming exchange: what the client writes, and where the answer comes from. */
export interface Exchange {
  write(chunk: string | Buffer): void;
  end(): void;
  /** Tears the request down as a client that goes away would. */
  abort(): void;
  /** The response: status, headers, and its body as a stream. */
  response: Promise<{ status: number; headers: Record<string, unknown>; body: Readable }>;
}

/**
 * A streaming POST over HTTP/1.1 (node:http, a fresh connection): the head goes out at once,
 * before any body byte, and the body stays open until `end()`.
 */
export function h1Exchange(url: string, path = '/', headers: OutgoingHttpHeaders = {}): Exchange {
  const req = httpRequest(new URL(path, url), { method: 'POST', agent: false, headers });
  req.on('error', () => {});
  defer(() => req.destroy());
  req.flushHeaders();
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  }).then((res) => ({ status: res.statusCode!, headers: res.headers as Record<string, unknown>, body: res as Readable }));
  response.catch(() => {});
  return {
    write: (chunk) => void req.write(chunk),
    end: () => void req.end(),
    abort: () => req.destroy(),
    response,
  };
}

/**
 * A streaming POST on an h2 or h2c session: one stream, both directions open. `abort()` resets the
 * stream as fetch or a browser does — RST_STREAM(CANCEL), through the request's AbortSignal. (Node's
 * `stream.close(CANCEL)` is no abort: it half-closes first, so the peer sees a complete body.)
 */
export function h2Exchange(
  session: ClientHttp2Session,
  path = '/',
  headers: OutgoingHttpHeaders = {},
): Exchange & { stream: ClientHttp2Stream } {
  const ac = new AbortController();
  const stream = session.request({ ':method': 'POST', ':path': path, ...headers }, { endStream: false, signal: ac.signal });
  stream.on('error', () => {});
  const response = new Promise<{ status: number; headers: Record<string, unknown>; body: Readable }>((resolve, reject) => {
    stream.once('response', (h) => resolve({ status: Number(h[':status']), headers: h as Record<string, unknown>, body: stream }));
    stream.once('error', reject);
    stream.once('close', () => reject(new Error(`stream closed before a response (rst ${stream.rstCode})`)));
  });
  response.catch(() => {});
  return {
    stream,
    write: (chunk) => void stream.write(chunk),
    end: () => void stream.end(),
    abort: () => ac.abort(),
    response,
  };
}

export interface PingPongOptions {
  rounds?: number;
  /** Fail (never hang) when an echo takes longer than this overall. */
  deadlineMs?: number;
  /** The line the server answers chunk k with; default the chunk itself. */
  expected?: (k: number) => string;
}

/**
 * Strict ping-pong over one request: chunk k (`ping k\n`) is sent only once the answer to chunk
 * k−1 has arrived. A server that reads the whole body before it answers deadlocks here, so the
 * deadline turns that into a failure that names the round. Resolves with the elapsed milliseconds.
 */
export async function pingPong(
  ex: Exchange,
  { rounds = 1000, deadlineMs = 10_000, expected = (k) => `ping ${k}` }: PingPongOptions = {},
): Promise<number> {
  const start = performance.now();
  let k = 0;
  const done = deferred<void>();
  const timer = setTimeout(
    () => done.reject(new Error(`deadlock: no answer to chunk ${k} within ${deadlineMs}ms (${k} of ${rounds} rounds done)`)),
    deadlineMs,
  );
  ex.write(`ping 0\n`);
  ex.response.then(
    ({ status, body }) => {
      if (status !== 200) return done.reject(new Error(`status ${status}`));
      let buf = '';
      body.setEncoding('utf8');
      body.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line !== expected(k))
            return done.reject(new Error(`round ${k}: expected ${JSON.stringify(expected(k))}, got ${JSON.stringify(line)}`));
          if (++k === rounds) {
            ex.end();
            return done.resolve();
          }
          ex.write(`ping ${k}\n`);
        }
      });
      body.on('error', (err) => done.reject(err));
      body.on('end', () => done.reject(new Error(`response ended after ${k} of ${rounds} rounds`)));
    },
    (err) => done.reject(err),
  );
  try {
    await done.promise;
  } finally {
    clearTimeout(timer);
  }
  return performance.now() - start;
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
