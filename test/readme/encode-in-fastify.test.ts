import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./encode-in-fastify.ts', import.meta.url), readme: new URL('../../packages/encode/README.md', import.meta.url) },
  () => import('./encode-in-fastify.js'),
);

it('the encode README shows the Fastify example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('compresses what the Fastify route answers, and leaves Fastify in charge of the rest', async () => {
  const res = await fetch(`${example.url}/api/report`, { headers: { 'accept-encoding': 'gzip' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-encoding')).toBe('gzip');
  expect(res.headers.get('vary')).toMatch(/accept-encoding/i);
  const body = await res.json();
  expect(body.rows).toHaveLength(500);
  const raw = await fetch(`${example.url}/api/report`, { headers: { 'accept-encoding': 'identity' } });
  expect(raw.headers.get('content-encoding')).toBeNull();
  expect((await raw.json()).rows[499]).toEqual({ i: 499, ok: true });
  const missing = await fetch(`${example.url}/nope`);
  expect(missing.status).toBe(404); // Fastify's own 404
});
