/**
 * Real-socket plumbing for the SSE tests: servers on 127.0.0.1 with ephemeral ports, real clients
 * (node:http, node:http2, undici, raw node:net), an EventSource-semantics client, and a cleanup list
 * so every server, session and socket a test opened is closed when it ends, whatever happened.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import {
  connect as h2connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders as H2Headers,
  type SecureClientSessionOptions,
} from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer, type FerryServer, type ServerOptions } from '@ferry/core';
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

/**
 * Resolves once `test()` holds, polling every few ms: only for state with no event to await
 * (a server-side counter seen from the client side).
 */
export async function eventually(test: () => boolean | Promise<boolean>, withinMs = 2000, what = test.toString()): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${withinMs}ms: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

let gc: (() => void) | undefined;

/**
 * Heap and external memory still held after a full collection, in bytes: what the process keeps,
 * not garbage V8 has yet to collect (tests push many MB of event text through).
 */
export function retainedBytes(): number {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** A started Ferry server on 127.0.0.1, logging nothing, closed after the test. */
export async function startServer(options: ServerOptions): Promise<FerryServer> {
  const server = createServer({ listen: '127.0.0.1:0', logger: false, ...options });
  await server.listen();
  defer(() => server.close({ gracePeriod: 0 }));
  return server;
}

/** The shared self-signed certificate (localhost, 127.0.0.1). */
export { selfSigned } from '@ferry/test-kit/certs';

/** A GET with node:http on a fresh connection; resolves at the response head (body not read yet). */
export function get(url: string, headers: OutgoingHttpHeaders = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, resolve);
    req.on('error', reject);
    defer(() => req.destroy());
    req.end();
  });
}

/** An h2 or h2c session (by the URL's scheme), connected, destroyed after the test. */
export async function h2Session(url: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = h2connect(url, options);
  defer(() => session.destroy());
  session.on('error', () => {});
  await once(session, 'connect');
  return session;
}

/** An h2 request; resolves with the stream and its response headers. */
export async function h2Get(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders = {},
): Promise<{ stream: ClientHttp2Stream; headers: H2Headers }> {
  const stream = session.request({ ':path': path, ...headers });
  stream.on('error', () => {});
  const [h] = (await once(stream, 'response')) as [H2Headers];
  return { stream, headers: h };
}

/** A raw TCP connection that sent `request` and read the response head, then reads nothing more. */
export async function rawStalledGet(url: string, path: string): Promise<{ socket: Socket; head: string }> {
  const u = new URL(url);
  const socket = netConnect({ host: u.hostname, port: Number(u.port) });
  defer(() => socket.destroy());
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  // From here on the client reads nothing: the kernel's buffers fill, then the server's.
  socket.pause();
  return { socket, head: head.slice(0, head.indexOf('\r\n\r\n')) };
}

/** Collects a readable's text and lets a test await what it expects to arrive next. */
export class TextCollector {
  text = '';
  ended = false;
  error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      this.text += s;
      this.#wake?.();
    });
    stream.on('end', () => {
      this.ended = true;
      this.#wake?.();
    });
    stream.on('error', (err: Error) => {
      this.error = err;
      this.#wake?.();
    });
    stream.on('close', () => {
      this.#wake?.();
    });
  }

  /** Resolves once `pred(text)` holds; rejects if the stream ends first or after `ms`. */
  async until(pred: (text: string) => boolean, ms = 3000, what = pred.toString()): Promise<string> {
    const deadline = performance.now() + ms;
    while (!pred(this.text)) {
      if (this.ended || this.error) throw new Error(`stream ended before ${what}; got ${JSON.stringify(this.text.slice(-300))}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`not within ${ms}ms: ${what}; got ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.text;
  }

  /** Resolves once `text` has arrived. */
  contains(text: string, ms?: number): Promise<string> {
    return this.until((t) => t.includes(text), ms, JSON.stringify(text));
  }
}

export { EventSourceClient, EventStreamParser, parseAll, type ReceivedEvent } from '@ferry/test-kit/sse-client';
