/** The README's code example is this package's test/readme/example.ts, verbatim, and it works. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FerryServer } from '@ferry/core';
import { decode, h1Get } from './helpers/net.js';

const example = readFileSync(new URL('./readme/example.ts', import.meta.url), 'utf8');
let server: FerryServer;

beforeAll(async () => {
  process.env.LISTEN = '127.0.0.1:0';
  ({ server } = await import('./readme/example.js'));
});
afterAll(() => server.close({ gracePeriod: 0 }));

it('the README shows the code example exactly as this test runs it', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(example.trim());
});

it('the README example answers a br-accepting client with br-compressed JSON', async () => {
  const reply = await h1Get(server.url, '/numbers', { headers: { 'accept-encoding': 'gzip;q=0.5, br' } });
  expect(reply.headers['content-encoding']).toBe('br');
  const json = JSON.parse(decode(reply.body, 'br').toString()) as { path: string; squares: number[] };
  expect(json.path).toBe('/numbers');
  expect(json.squares[499]).toBe(499 * 499);
});
