import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { readmeExample } from '@ferry/test-kit/readme';
import { useBackend } from './backend.js';

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
  const ws = new WebSocket(`${example.url.replace('http', 'ws')}/api/live`);
  try {
    await once(ws, 'open');
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(1 + i * 331);
      ws.send(message);
      const [echo] = (await once(ws, 'message')) as [Buffer];
      expect(echo.equals(message)).toBe(true);
    }
  } finally {
    ws.terminate();
  }
});
