/** The README's code example is this package's test/readme/example.ts, verbatim, and it works. */
import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';
import { decode, h1Get } from './helpers/net.js';

const example = readmeExample(
  { example: new URL('./readme/example.ts', import.meta.url), readme: new URL('../README.md', import.meta.url) },
  () => import('./readme/example.js'),
);

it('the README shows the code example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('the README example answers a br-accepting client with br-compressed JSON', async () => {
  const reply = await h1Get(example.server.url, '/numbers', { headers: { 'accept-encoding': 'gzip;q=0.5, br' } });
  expect(reply.headers['content-encoding']).toBe('br');
  const json = JSON.parse(decode(reply.body, 'br').toString()) as { path: string; squares: number[] };
  expect(json.path).toBe('/numbers');
  expect(json.squares[499]).toBe(499 * 499);
});
