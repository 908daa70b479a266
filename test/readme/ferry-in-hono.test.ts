import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { app, ferry } from './ferry-in-hono.js';

/** The toFetch example of docs/interop.md: no server, no port — Hono's app.request and a bare Request. */
afterAll(() => ferry.close({ gracePeriod: 0 }));

it('docs/interop.md shows the toFetch example exactly as this test runs it', () => {
  const source = readFileSync(new URL('./ferry-in-hono.ts', import.meta.url), 'utf8');
  expect(readFileSync(new URL('../../docs/interop.md', import.meta.url), 'utf8')).toContain(source.trim());
});

it('Ferry answers inside the Hono route, and on its own for a bare Request', async () => {
  const viaHono = await app.request('/ferry/users/7');
  expect(await viaHono.json()).toEqual({ id: '7' });
  expect(viaHono.headers.getSetCookie()).toEqual(['last-seen=7; Path=/; HttpOnly; SameSite=Lax']);
  const direct = await ferry(new Request('http://app.test/ferry/users/8'));
  expect(await direct.json()).toEqual({ id: '8' });
});
