import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./express-in-ferry.ts', import.meta.url), readme: new URL('../../docs/interop.md', import.meta.url) },
  () => import('./express-in-ferry.js'),
);

it('docs/interop.md shows the Express example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('the Express app answers through encode and headers, with its cookie and redirect', async () => {
  const res = await fetch(`${example.url}/users/7`);
  expect(await res.json()).toEqual({ id: '7' });
  expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
  expect(res.headers.getSetCookie()).toEqual(['last-seen=7; Path=/']);
  const report = await fetch(`${example.url}/report`, { headers: { 'accept-encoding': 'gzip' } });
  expect(report.headers.get('content-encoding')).toBe('gzip');
  expect(await report.json()).toHaveLength(200);
  const moved = await fetch(`${example.url}/old`, { redirect: 'manual' });
  expect([moved.status, moved.headers.get('location')]).toEqual([301, '/users/1']);
});

it('what Express has no route for goes on down the Ferry chain', async () => {
  const res = await fetch(`${example.url}/elsewhere`);
  expect([res.status, await res.text()]).toEqual([404, 'not here either\n']);
});
