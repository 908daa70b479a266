import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./code-first.ts', import.meta.url), readme: new URL('../../README.md', import.meta.url) },
  () => import('./code-first.js'),
);

it('the README shows the code-first example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('the code-first example serves its API route through the custom middleware', async () => {
  const res = await fetch(`${example.server.url}/api/users`);
  expect(res.headers.get('x-powered-by')).toBe('ferry');
  expect(await res.json()).toEqual({ path: '/api/users' });
});

it('the code-first example falls through to its static response', async () => {
  const res = await fetch(`${example.server.url}/`);
  expect(res.headers.get('x-powered-by')).toBe('ferry');
  expect(await res.text()).toBe('Hello from Ferry!');
  const post = await fetch(`${example.server.url}/api/users`, { method: 'POST' });
  expect(await post.text()).toBe('Hello from Ferry!');
});
