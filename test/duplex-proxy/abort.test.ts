/**
 * A client that goes away in front of reverse_proxy (@ferry/proxy) whose upstream is a full-duplex
 * handler (@ferry/duplex): the abort reaches the upstream's handler within a second, and the
 * upstream never takes a cut-short upload for a whole one.
 */
import { describe, expect, it } from 'vitest';
import { createServer, type HandlerInput, type Middleware } from '@ferry/core';
import { duplex, type DuplexContext } from '@ferry/duplex';
import { reverseProxy } from '@ferry/proxy';
import { converseThenAbort, h1Exchange } from '@ferry/test-kit/exchange';
import { deferred, escapedErrors } from '@ferry/test-kit/lifecycle';
import { serverStarter } from '@ferry/test-kit/servers';
import { within } from '@ferry/test-kit/waiting';

const startServer = serverStarter(createServer);

/** Errors that escaped everyone while a test ran. */
const escaped = escapedErrors();

/** What the upstream's side saw: when the signal aborted, when the handler settled, that its body started. */
function observer() {
  const aborted = deferred<number>();
  const settled = deferred();
  const state = { aborted: aborted.promise, settled: settled.promise, started: deferred() };
  const watch: Middleware = async (req, res, next) => {
    req.signal.addEventListener('abort', () => aborted.resolve(performance.now()), { once: true });
    try {
      await next(req, res);
    } finally {
      settled.resolve();
    }
  };
  return { state, watch };
}

type State = ReturnType<typeof observer>['state'];

/** Echoes each chunk back as it arrives. */
const echoLoop =
  (state: State) =>
  async ({ body, write }: DuplexContext) => {
    state.started.resolve();
    for await (const chunk of body) await write(chunk);
  };

const upstreams = [
  { upstream: 'HTTP/1.1', versions: ['1.1'] as const },
  // h2c: an abort must reset the upstream stream (RST_STREAM CANCEL) without ending it first, or the
  // upstream takes a cut-short upload for a whole one (the proxy passes its signal to request()).
  { upstream: 'h2c', versions: ['h2c'] as const },
];

describe('a client that goes away in front of reverseProxy', () => {
  for (const { upstream, versions } of upstreams) {
    it(`aborts the ${upstream} upstream's duplex handler within a second`, async () => {
      const { state, watch } = observer();
      const up = await startServer({
        protocols: ['h1', 'h2c'],
        enableFullDuplex: true,
        handler: [watch, duplex(echoLoop(state))],
      });
      const handler: HandlerInput[] = [
        reverseProxy({ upstreams: [{ dial: new URL(up.url).host }], transport: { versions: [...versions] } }),
      ];
      const proxy = await startServer({ enableFullDuplex: true, handler });
      const t0 = await converseThenAbort(h1Exchange(proxy.url), state.started.promise);
      const abortedAt = await within(state.aborted, 1000, 'upstream req.signal abort');
      expect(abortedAt - t0).toBeLessThan(1000);
      await within(state.settled, 1000, 'upstream handler settling');
      await new Promise((r) => setImmediate(r));
      expect(escaped).toEqual([]);
    });

    it(`never lets the ${upstream} upstream take a cut-short upload for a whole one`, async () => {
      const outcome = deferred<string>();
      const up = await startServer({
        protocols: ['h1', 'h2c'],
        handler: async (req, res) => {
          res.flush();
          try {
            for await (const _ of req.body) void _;
            outcome.resolve(req.signal.aborted ? 'aborted' : 'complete');
          } catch {
            outcome.resolve('error');
          }
          res.end();
        },
      });
      const handler: HandlerInput[] = [
        reverseProxy({ upstreams: [{ dial: new URL(up.url).host }], transport: { versions: [...versions] } }),
      ];
      const proxy = await startServer({ handler });
      const ex = h1Exchange(proxy.url);
      ex.write('the first half of an upload');
      await ex.response;
      ex.abort();
      expect(await within(outcome.promise, 1000, 'upstream body outcome')).not.toBe('complete');
    });
  }
});
