/** The README's code example is this package's test/readme/example.ts, verbatim, and it works. */
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { h1Get } from '@ferry/test-kit/clients';
import { readmeExample } from '@ferry/test-kit/readme';

const example = readmeExample(
  { example: new URL('./readme/example.ts', import.meta.url), readme: new URL('../README.md', import.meta.url) },
  () => import('./readme/example.js'),
);

it('the README shows the code example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('the README example serves the app, its gzip sidecar, index.html for client routes, and a listing without drafts', async () => {
  const url = example.server.url;
  const home = await h1Get(`${url}/`);
  expect(home.body.toString()).toContain('<div id="app">');
  const js = await h1Get(`${url}/app.js`, { headers: { 'accept-encoding': 'gzip' } });
  expect(js.headers['content-encoding']).toBe('gzip');
  expect(gunzipSync(js.body).toString()).toContain('hello from app.js');
  const route = await h1Get(`${url}/users/42`);
  expect([route.status, route.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
  const listing = await h1Get(`${url}/docs/`, { headers: { accept: 'application/json' } });
  expect((JSON.parse(listing.body.toString()) as { name: string }[]).map((e) => e.name)).toEqual(['guide.md']);
  expect((await h1Get(`${url}/docs/notes.draft`)).status).toBe(404);
});
