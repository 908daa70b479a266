/**
 * A client that goes away mid-stream: the handler's `signal` aborts within a second, a pending or
 * next `write()` rejects (so a writing loop stops), the handler settles, and nothing surfaces as an
 * unhandled error or an error-level log line — a client leaving is not a server failure.
 */
import { describe, expect, it } from 'vitest';
import type { Middleware } from '@ferry/core';
import { duplex, type DuplexContext } from '../src/index.js';
import { collectingLogger, deferred, startServer } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Connect } from '@ferry/test-kit/clients';
import { converseThenAbort, type Exchange, h1Exchange, h2Exchange } from '@ferry/test-kit/exchange';
import { escapedErrors } from '@ferry/test-kit/lifecycle';
import { within } from '@ferry/test-kit/waiting';

/** Errors that escaped everyone while a test ran. */
const escaped = escapedErrors();

/** What the server side saw: when the signal aborted, how write() ended, how the handler settled. */
function observer() {
  const aborted = deferred<number>();
  const settled = deferred<{ at: number; error?: unknown }>();
  const state = { writeError: undefined as unknown, aborted: aborted.promise, settled: settled.promise, started: deferred() };
  /** Records how the rest of the chain settles. */
  const watch: Middleware = async (req, res, next) => {
    req.signal.addEventListener('abort', () => aborted.resolve(performance.now()), { once: true });
    try {
      await next(req, res);
      settled.resolve({ at: performance.now() });
    } catch (error) {
      settled.resolve({ at: performance.now(), error });
      throw error;
    }
  };
  return { state, watch };
}

type State = ReturnType<typeof observer>['state'];

const bodies: Record<string, (state: State) => (ctx: DuplexContext) => Promise<void>> = {
  /** Echoes each chunk back as it arrives. */
  'an echo loop':
    (state) =>
    async ({ body, write }) => {
      state.started.resolve();
      for await (const chunk of body) {
        try {
          await write(chunk);
        } catch (err) {
          state.writeError = err;
          throw err;
        }
      }
    },
  /** Ignores the body and writes as fast as the connection takes it. */
  'a writer that never stops':
    (state) =>
    async ({ write }) => {
      state.started.resolve();
      const chunk = Buffer.alloc(64 * 1024, 'x');
      try {
        for (;;) await write(chunk);
      } catch (err) {
        state.writeError = err;
      }
    },
  /** Web Streams: the body piped back through a transform. */
  'a Web Streams pipe':
    (state) =>
    async ({ readable, writable }) => {
      state.started.resolve();
      await readable.pipeThrough(new TransformStream()).pipeTo(writable);
    },
  /** Web Streams: a WritableStream writer that never stops. */
  'a WritableStream writer that never stops':
    (state) =>
    async ({ writable }) => {
      state.started.resolve();
      const writer = writable.getWriter();
      const chunk = new Uint8Array(64 * 1024);
      try {
        for (;;) await writer.write(chunk);
      } catch (err) {
        state.writeError = err;
      }
    },
};

const clients: { name: string; open: (url: string) => Exchange; server: Parameters<typeof startServer>[0] }[] = [
  { name: 'HTTP/1.1 (connection closed)', open: (url) => h1Exchange(url), server: { enableFullDuplex: true } },
  { name: 'h2c (stream reset)', open: (url) => h2Exchange(h2Connect(url)), server: { protocols: ['h1', 'h2c'] } },
  {
    name: 'h2 (stream reset)',
    open: (url) => h2Exchange(h2Connect(url, { ca: certificates().ca })),
    server: { tls: certificates().tls, protocols: ['h1', 'h2'] },
  },
  {
    name: 'h2c (connection dropped)',
    open: (url) => {
      const session = h2Connect(url);
      return { ...h2Exchange(session), abort: () => session.destroy() };
    },
    server: { protocols: ['h1', 'h2c'] },
  },
];

describe.each(clients)('a client that goes away mid-stream over $name', ({ open, server: options }) => {
  it.each(Object.keys(bodies))('stops %s within a second, quietly', async (shape) => {
    const { state, watch } = observer();
    const { logger, entries } = collectingLogger();
    const server = await startServer({ ...options, logger, handler: [watch, duplex(bodies[shape]!(state))] });
    const t0 = await converseThenAbort(open(server.url), state.started.promise);
    const abortedAt = await within(state.aborted, 1000, 'req.signal abort');
    expect(abortedAt - t0).toBeLessThan(1000);
    const settled = await within(state.settled, 1000, 'handler settling');
    expect(settled.at - t0).toBeLessThan(1000);
    // The handler ends normally: a client leaving is no error of the server's.
    expect(settled.error).toBeUndefined();
    if (shape.includes('never stops')) expect(state.writeError).toBeDefined();
    expect(entries.filter((e) => (e.level as number) >= 50)).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(escaped).toEqual([]);
  });
});

describe('ctx.body on h2', () => {
  it('ends with an error, not cleanly, when the client resets the stream mid-upload', async () => {
    const outcome = deferred<unknown>();
    const server = await startServer({
      protocols: ['h1', 'h2c'],
      handler: duplex(async ({ body }) => {
        try {
          for await (const _ of body) void _;
          outcome.resolve('complete');
        } catch (err) {
          outcome.resolve(err);
        }
      }),
    });
    const ex = h2Exchange(h2Connect(server.url));
    ex.write('the first half of an upload');
    await ex.response;
    ex.abort();
    expect(await within(outcome.promise, 1000, 'body outcome')).toBeInstanceOf(Error);
  });
});
