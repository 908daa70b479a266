import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { toFetch } from '@ferry/core';
import { Channel, streamEvents } from '@ferry/sse';

export const news = new Channel({ history: 100 });

// The stream as a fetch handler: its Response streams the events; the client leaving aborts it.
const events = toFetch([
  streamEvents((stream) => {
    news.subscribe(stream, { lastEventId: stream.lastEventId });
  }),
]);

const app = new Hono();
app.get('/events', (c) => events(c.req.raw));
app.post('/publish', async (c) => {
  const event = await news.publish({ event: 'news', data: await c.req.text() });
  return c.text(event.id, 202);
});

export const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' });
