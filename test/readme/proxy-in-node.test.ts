import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';
import { expectWebSocketEcho, useBackend } from './backend.js';

useBackend();
const example = readmeExample(
  { example: new URL('./proxy-in-node.ts', import.meta.url), readme: new URL('../../packages/proxy/README.md', import.meta.url) },
  () => import('./proxy-in-node.js'),
);

it('the proxy README shows the node:http example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('sends every request to the backend', async () => {
  const api = await fetch(`${example.url}/api/users?page=2`);
  expect(await api.json()).toMatchObject({ url: '/api/users?page=2', method: 'GET', forwardedFor: '127.0.0.1' });
  expect(await (await fetch(`${example.url}/`, { method: 'DELETE' })).json()).toMatchObject({ url: '/', method: 'DELETE' });
});

it('proxies WebSockets with no upgrade wiring beyond attachUpgrades, byte for byte', async () => {
  await expectWebSocketEcho(`${example.url.replace('http', 'ws')}/api/live`);
});
