import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';
import { expectWebSocketEcho, useBackend } from './backend.js';

useBackend();
const example = readmeExample(
  { example: new URL('./proxy-in-express.ts', import.meta.url), readme: new URL('../../packages/proxy/README.md', import.meta.url) },
  () => import('./proxy-in-express.js'),
);

it('the proxy README shows the Express example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('sends /api/* to the backend and leaves the rest to Express', async () => {
  const api = await fetch(`${example.url}/api/users?page=2`);
  expect(await api.json()).toMatchObject({ url: '/api/users?page=2', method: 'GET', forwardedFor: '127.0.0.1' });
  expect(await (await fetch(`${example.url}/`)).text()).toBe('the app');
});

it('proxies WebSockets under /api with no upgrade wiring beyond attachUpgrades, byte for byte', async () => {
  await expectWebSocketEcho(`${example.url.replace('http', 'ws')}/api/live`);
});
