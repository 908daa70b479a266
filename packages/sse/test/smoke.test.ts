import http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { createServer, type FerryServer } from '@ferry/core';
import { Channel, streamEvents } from '../src/index.js';

let server: FerryServer | undefined;
afterEach(async () => {
  await server?.close({ gracePeriod: 0 });
  server = undefined;
});

it('a subscriber gets published events, and leaving is noticed within a second while idle', async () => {
  const channel = new Channel({ history: 10 });
  let closedAt = 0;
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    handler: streamEvents((stream) => {
      channel.subscribe(stream, { lastEventId: stream.lastEventId });
      void stream.closed.then(() => (closedAt = Date.now()));
    }),
  });
  await server.listen();
  const res = await new Promise<http.IncomingMessage>((resolve) => http.get(server!.url, resolve));
  expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
  res.setEncoding('utf8');
  let text = '';
  const got = new Promise<void>((resolve) => res.on('data', (d: string) => ((text += d), text.includes('data: two') && resolve())));
  channel.publish({ data: 'one' });
  channel.publish({ data: 'two', event: 'e' });
  await got;
  expect(text).toContain('id: 1\ndata: one\n\n');
  expect(text).toContain('event: e\nid: 2\ndata: two\n\n');
  expect(channel.size).toBe(1);
  const left = Date.now();
  res.destroy();
  while (channel.size > 0) await new Promise((r) => setTimeout(r, 10));
  expect(closedAt - left).toBeLessThan(1000);
});
