/**
 * The duplex acceptance test through reverse_proxy (@ferry/proxy): 1,000 strict ping-pong rounds
 * on one request from the client, through the proxy, to a full-duplex handler (@ferry/duplex) and
 * back, over HTTP/1.1 and h2c on either side. A proxy that buffered either direction deadlocks on
 * round 0; the ping-pong's deadline turns that into a failure instead of a hang.
 */
import { afterAll, describe, it } from 'vitest';
import { createServer, type HandlerInput } from '@ferry/core';
import { duplex, duplexEcho } from '@ferry/duplex';
import { reverseProxy } from '@ferry/proxy';
import { h2Connect } from '@ferry/test-kit/clients';
import { h1Exchange, h2Exchange, pingPong, pong } from '@ferry/test-kit/exchange';
import { serverStarter } from '@ferry/test-kit/servers';

const startServer = serverStarter(createServer);

const ROUNDS = 1000;
/** Above the ping-pong's own 10 s deadline, so a deadlock reports its round rather than vitest's timeout. */
const TEST_TIMEOUT = 15_000;

const handlers: { name: string; make: () => HandlerInput; expected: (k: number) => string }[] = [
  { name: 'duplexEcho()', make: () => duplexEcho(), expected: (k) => `ping ${k}` },
  { name: 'a custom duplex() handler', make: () => duplex(pong), expected: (k) => `pong ${k}` },
];

const timings: string[] = [];
afterAll(() => {
  // Measured times, for the record (vitest prints them with --reporter=verbose or on failure).
  console.log(`ping-pong through reverseProxy, ${ROUNDS} rounds:\n  ${timings.join('\n  ')}`);
});

describe.each(handlers)('ping-pong through reverseProxy to $name', ({ name, make, expected }) => {
  const cases = [
    { upstream: 'HTTP/1.1', versions: ['1.1'] as const, client: 'HTTP/1.1' },
    { upstream: 'HTTP/1.1', versions: ['1.1'] as const, client: 'h2c' },
    { upstream: 'h2c', versions: ['h2c'] as const, client: 'HTTP/1.1' },
    { upstream: 'h2c', versions: ['h2c'] as const, client: 'h2c' },
  ];
  for (const { upstream, versions, client } of cases) {
    it(
      `completes ${ROUNDS} rounds: ${client} client → proxy → ${upstream} upstream`,
      async () => {
        const up = await startServer({ protocols: ['h1', 'h2c'], enableFullDuplex: true, handler: [make()] });
        const proxy = await startServer({
          protocols: ['h1', 'h2c'],
          enableFullDuplex: true,
          handler: [reverseProxy({ upstreams: [{ dial: new URL(up.url).host }], transport: { versions: [...versions] } })],
        });
        const ex = client === 'h2c' ? h2Exchange(h2Connect(proxy.url)) : h1Exchange(proxy.url);
        const ms = await pingPong(ex, { rounds: ROUNDS, expected });
        timings.push(`${client} → proxy → ${upstream}, ${name}: ${ms.toFixed(0)} ms`);
      },
      TEST_TIMEOUT,
    );
  }
});
