import { expect, it } from 'vitest';
import { readmeExample } from '@ferry/test-kit/readme';
import { EventSourceClient } from '@ferry/test-kit/sse-client';
import { eventually } from '@ferry/test-kit/waiting';

const example = readmeExample(
  { example: new URL('./sse-in-hono.ts', import.meta.url), readme: new URL('../../packages/sse/README.md', import.meta.url) },
  () => import('./sse-in-hono.js'),
);

async function publish(text: string): Promise<string> {
  const res = await fetch(`${example.url}/publish`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
  expect(res.status).toBe(202);
  return res.text();
}

it('the sse README shows the Hono example exactly as this test runs it', () => {
  expect(example.readme).toContain(example.source.trim());
});

it('streams the channel from a Hono route (@hono/node-server): head at once, every event, the missed ones on reconnect, a leaver noticed', async () => {
  const { news } = await import('./sse-in-hono.js');
  const client = new EventSourceClient(`${example.url}/events`);
  const head = await client.connect();
  expect(head.statusCode).toBe(200);
  expect(head.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  await eventually(() => news.size === 1);
  const id = await publish('first');
  expect(await client.next()).toMatchObject({ type: 'news', data: 'first', lastEventId: id });
  await client.disconnect();
  await eventually(() => news.size === 0, 1000);
  await publish('missed');
  await client.reconnect();
  expect(await client.next()).toMatchObject({ type: 'news', data: 'missed' });
  await client.disconnect();
});
