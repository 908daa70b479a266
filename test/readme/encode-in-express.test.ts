import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { createGunzip } from 'node:zlib';
import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./encode-in-express.ts', import.meta.url), readme: new URL('../../packages/encode/README.md', import.meta.url) },
  () => import('./encode-in-express.js'),
);

it('the encode README shows the Express example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('compresses what the Express route answers', async () => {
  const res = await fetch(`${example.url}/api/report`, { headers: { 'accept-encoding': 'gzip' } });
  expect(res.headers.get('content-encoding')).toBe('gzip');
  expect(res.headers.get('x-powered-by')).toBe('Express');
  expect((await res.json()).rows).toHaveLength(500);
});

it('sends the event stream head at once and each event compressed as it is written', async () => {
  const { port } = new URL(example.url);
  const started = Date.now();
  const req = request({ host: '127.0.0.1', port, path: '/events', headers: { 'accept-encoding': 'gzip' } });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const headMs = Date.now() - started;
  expect(headMs).toBeLessThan(1000);
  expect(res.headers['content-encoding']).toBe('gzip');
  const events = res.pipe(createGunzip());
  const [first] = (await once(events, 'data')) as [Buffer];
  // The next event comes a second later: one that arrives sooner than that was flushed by itself.
  const written = Date.parse(/^data: (.+)\n\n$/.exec(first.toString())![1]!);
  const delayMs = Date.now() - written;
  console.log(`[readme] encode in Express: head after ${headMs} ms, first event decoded ${delayMs} ms after being written`);
  expect(delayMs).toBeLessThan(900);
  req.destroy();
});
