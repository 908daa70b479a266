/**
 * Full-duplex exchanges on one request: the client writes while the response streams back. An
 * `Exchange` is one end of one (over HTTP/1.1 or an h2/h2c stream); `pingPong` drives strict
 * rounds over it with a deadline, so a server that is not full duplex fails instead of hanging.
 */
import { once } from 'node:events';
import { type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { defer, deferred } from './lifecycle.js';

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

/**
 * The server side of a ping-pong protocol of its own over plain HTTP, for a duplex handler
 * (`duplex(pong)`): answers each line `ping k` of the body with `pong k`, as it arrives.
 */
export async function pong({ body, write }: { body: AsyncIterable<Buffer>; write(chunk: string): Promise<unknown> }): Promise<void> {
  let buf = '';
  for await (const chunk of body) {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      await write(`${buf.slice(0, nl).replace('ping', 'pong')}\n`);
      buf = buf.slice(nl + 1);
    }
  }
}

/**
 * Starts the exchange, lets some bytes flow both ways (once the handler says it has `started`),
 * then has the client walk away; resolves with the moment it left.
 */
export async function converseThenAbort(ex: Exchange, started: Promise<unknown>): Promise<number> {
  ex.write('hello\n');
  const { body } = await ex.response;
  await started;
  await once(body, 'data');
  const t0 = performance.now();
  ex.abort();
  return t0;
}
