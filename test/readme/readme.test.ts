import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FerryServer } from '@ferry/core';

const example = readFileSync(new URL('./code-first.ts', import.meta.url), 'utf8');
let server: FerryServer;

beforeAll(async () => {
  process.env.LISTEN = '127.0.0.1:0';
  ({ server } = await import('./code-first.js'));
});
afterAll(() => server.close({ gracePeriod: 0 }));

it('the README shows the code-first example exactly as this test runs it', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(example.trim());
});

it('the code-first example serves its API route through the custom middleware', async () => {
  const res = await fetch(`${server.url}/api/users`);
  expect(res.headers.get('x-powered-by')).toBe('ferry');
  expect(await res.json()).toEqual({ path: '/api/users' });
});

it('the code-first example falls through to its static response', async () => {
  const res = await fetch(`${server.url}/`);
  expect(res.headers.get('x-powered-by')).toBe('ferry');
  expect(await res.text()).toBe('Hello from Ferry!');
  const post = await fetch(`${server.url}/api/users`, { method: 'POST' });
  expect(await post.text()).toBe('Hello from Ferry!');
});
