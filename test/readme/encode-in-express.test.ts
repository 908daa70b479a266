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
  expect(Date.now() - started).toBeLessThan(100);
  expect(res.headers['content-encoding']).toBe('gzip');
  const events = res.pipe(createGunzip());
  const [first] = (await once(events, 'data')) as [Buffer];
  // The event was written within the last 100 ms: encode flushed it, it did not wait for more.
  const written = Date.parse(/^data: (.+)\n\n$/.exec(first.toString())![1]!);
  expect(Date.now() - written).toBeLessThan(100);
  req.destroy();
});
