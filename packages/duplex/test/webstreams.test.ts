/**
 * Web Streams interop: a duplex handler written with `ReadableStream`/`WritableStream` streams both
 * ways like one written with Node streams; and undici — the dispatcher API, not `fetch`, which is
 * half-duplex — drives a full-duplex exchange as a client.
 */
import { PassThrough } from 'node:stream';
import { Client, request as undiciRequest, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { duplex } from '../src/index.js';
import { defer, startServer } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Connect } from '@ferry/test-kit/clients';
import { type Exchange, h1Exchange, h2Exchange, pingPong } from '@ferry/test-kit/exchange';

const ROUNDS = 200;

/** Upper-cases text, chunk by chunk, as it flows. */
const upper = () =>
  new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase()));
    },
  });

const shouting = (k: number) => `PING ${k}`;

const handlers = [
  {
    name: 'readable.pipeThrough(…).pipeTo(writable)',
    make: () => duplex(async ({ readable, writable }) => readable.pipeThrough(upper()).pipeTo(writable)),
  },
  {
    name: 'returning a ReadableStream',
    make: () => duplex(({ readable }) => readable.pipeThrough(upper())),
  },
];

describe.each(handlers)('a duplex handler using Web Streams: $name', ({ make }) => {
  it('streams both ways over HTTP/1.1', async () => {
    const server = await startServer({ handler: make() });
    await pingPong(h1Exchange(server.url), { rounds: ROUNDS, expected: shouting });
  }, 15_000);

  it('streams both ways over h2c', async () => {
    const server = await startServer({ protocols: ['h1', 'h2c'], handler: make() });
    await pingPong(h2Exchange(h2Connect(server.url)), { rounds: ROUNDS, expected: shouting });
  }, 15_000);
});

/** An undici Client, closed after the test. */
function client(url: string, options: Client.Options = {}): Client {
  const c = new Client(new URL(url).origin, options);
  defer(() => c.destroy());
  return c;
}

/** A streaming POST through `undici.request`: it resolves on the response head while the body is still open. */
function undiciExchange(url: string, dispatcher: Dispatcher): Exchange {
  const body = new PassThrough();
  const ac = new AbortController();
  const response = undiciRequest(url, { method: 'POST', body, dispatcher, signal: ac.signal }).then((r) => ({
    status: r.statusCode,
    headers: r.headers as Record<string, unknown>,
    body: r.body,
  }));
  response.catch(() => {});
  return { write: (c) => void body.write(c), end: () => void body.end(), abort: () => ac.abort(), response };
}

/** The same through `Client#dispatch` and its handler callbacks (undici 7's controller API). */
function dispatchExchange(url: string, dispatcher: Dispatcher): Exchange {
  const body = new PassThrough();
  const incoming = new PassThrough();
  let controller: Dispatcher.DispatchController | undefined;
  const response = new Promise<{ status: number; headers: Record<string, unknown>; body: PassThrough }>((resolve, reject) => {
    dispatcher.dispatch(
      { origin: new URL(url).origin, path: '/', method: 'POST', body },
      {
        onRequestStart(c) {
          controller = c;
        },
        onResponseStart(_c, status, headers) {
          resolve({ status, headers, body: incoming });
        },
        onResponseData(_c, chunk) {
          incoming.write(chunk);
        },
        onResponseEnd() {
          incoming.end();
        },
        onResponseError(_c, err) {
          reject(err);
          incoming.destroy(err);
        },
      },
    );
  });
  response.catch(() => {});
  return { write: (c) => void body.write(c), end: () => void body.end(), abort: () => controller?.abort(new Error('aborted')), response };
}

describe('undici as a full-duplex client', () => {
  const echo = () =>
    duplex(async ({ body, write }) => {
      for await (const chunk of body) await write(chunk);
    });

  it('undici.request with a streaming body: ping-pong over HTTP/1.1', async () => {
    const server = await startServer({ enableFullDuplex: true, handler: echo() });
    await pingPong(undiciExchange(server.url, client(server.url)), { rounds: ROUNDS });
  }, 15_000);

  it('Client#dispatch with a streaming body: ping-pong over HTTP/1.1', async () => {
    const server = await startServer({ enableFullDuplex: true, handler: echo() });
    await pingPong(dispatchExchange(server.url, client(server.url)), { rounds: ROUNDS });
  }, 15_000);

  it('undici.request with a streaming body: ping-pong over h2 (allowH2)', async () => {
    const { tls, ca } = certificates();
    const protocols: string[] = [];
    const server = await startServer({
      tls,
      protocols: ['h1', 'h2'],
      handler: [
        (req, res, next) => {
          protocols.push(req.protocol);
          return next(req, res);
        },
        echo(),
      ],
    });
    const c = client(server.url, { allowH2: true, connect: { ca } });
    await pingPong(undiciExchange(server.url, c), { rounds: ROUNDS });
    expect(protocols).toEqual(['h2']);
  }, 15_000);

  it('gets the Web Streams handler shouting back through undici', async () => {
    const server = await startServer({ handler: handlers[0]!.make() });
    const ex = undiciExchange(server.url, client(server.url));
    ex.write('quiet please\n');
    ex.end();
    const { status, body } = await ex.response;
    expect(status).toBe(200);
    expect(await (body as unknown as { text(): Promise<string> }).text()).toBe('QUIET PLEASE\n');
  });
});
