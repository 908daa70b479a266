import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./hono-in-ferry.ts', import.meta.url), readme: new URL('../../docs/interop.md', import.meta.url) },
  () => import('./hono-in-ferry.js'),
);

it('docs/interop.md shows the Hono example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('the Hono app answers through Ferry', async () => {
  const res = await fetch(`${example.server.url}/hello/ada`);
  expect(await res.json()).toEqual({ hello: 'ada' });
});
