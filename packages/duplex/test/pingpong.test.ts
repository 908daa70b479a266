/**
 * The duplex issue's acceptance test: one request, 1,000 strict ping-pong rounds — the client sends
 * chunk k only after it has the answer to chunk k−1. A half-duplex server (or proxy) deadlocks on
 * round 0; the explicit deadline turns that into a failure instead of a hang.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { HandlerInput } from '@ferry/core';
import { duplex, duplexEcho } from '../src/index.js';
import { startServer } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Connect } from '@ferry/test-kit/clients';
import { h1Exchange, h2Exchange, pingPong, pong } from '@ferry/test-kit/exchange';

const ROUNDS = 1000;
/** Above the ping-pong's own 10 s deadline, so a deadlock reports its round rather than vitest's timeout. */
const TEST_TIMEOUT = 15_000;

/** Answers each line `ping k` of the body with `pong k`, as it arrives: a protocol of its own over plain HTTP. */
const pongHandler = () => duplex(pong);

const handlers: { name: string; make: () => HandlerInput; expected: (k: number) => string }[] = [
  { name: 'duplexEcho()', make: () => duplexEcho(), expected: (k) => `ping ${k}` },
  { name: 'a custom duplex() handler', make: pongHandler, expected: (k) => `pong ${k}` },
];

const timings: string[] = [];
afterAll(() => {
  // Measured times, for the record (vitest prints them with --reporter=verbose or on failure).
  console.log(`ping-pong, ${ROUNDS} rounds:\n  ${timings.join('\n  ')}`);
});

describe.each(handlers)('ping-pong with $name', ({ name, make, expected }) => {
  it(
    `completes ${ROUNDS} rounds over HTTP/1.1 with enableFullDuplex`,
    async () => {
      const server = await startServer({ enableFullDuplex: true, handler: [make()] });
      const ms = await pingPong(h1Exchange(server.url), { rounds: ROUNDS, expected });
      timings.push(`h1, ${name}: ${ms.toFixed(0)} ms`);
    },
    TEST_TIMEOUT,
  );

  it(
    `completes ${ROUNDS} rounds over h2 (TLS)`,
    async () => {
      const { tls, ca } = certificates();
      const server = await startServer({ tls, protocols: ['h1', 'h2'], enableFullDuplex: true, handler: [make()] });
      const ms = await pingPong(h2Exchange(h2Connect(server.url, { ca })), { rounds: ROUNDS, expected });
      timings.push(`h2, ${name}: ${ms.toFixed(0)} ms`);
    },
    TEST_TIMEOUT,
  );

  it(
    `completes ${ROUNDS} rounds over h2c`,
    async () => {
      const server = await startServer({ protocols: ['h1', 'h2c'], enableFullDuplex: true, handler: [make()] });
      const ms = await pingPong(h2Exchange(h2Connect(server.url)), { rounds: ROUNDS, expected });
      timings.push(`h2c, ${name}: ${ms.toFixed(0)} ms`);
    },
    TEST_TIMEOUT,
  );
});

describe('the ping-pong test itself', () => {
  it('fails with a deadlock error, not a hang, against a half-duplex handler', async () => {
    // Reads the whole body before answering: exactly what the rounds above would catch.
    const server = await startServer({
      handler: async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req.body) chunks.push(c as Buffer);
        res.end(Buffer.concat(chunks));
      },
    });
    await expect(pingPong(h1Exchange(server.url), { rounds: 3, deadlineMs: 300 })).rejects.toThrow(/deadlock: no answer to chunk 0/);
  });
});
