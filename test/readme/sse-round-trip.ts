/**
 * What the sse README examples (Express, Hono) must both do, checked with an EventSource-like
 * client: the head at once, every published event, the missed ones on reconnecting with
 * Last-Event-ID, and a departed client noticed within a second.
 */
import { expect } from 'vitest';
import { EventSourceClient } from '@ferry/test-kit/sse-client';
import { eventually } from '@ferry/test-kit/waiting';

export async function expectChannelRoundTrip(url: string, news: { readonly size: number }): Promise<void> {
  const publish = async (text: string): Promise<string> => {
    const res = await fetch(`${url}/publish`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
    expect(res.status).toBe(202);
    return res.text();
  };
  const client = new EventSourceClient(`${url}/events`);
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
}
