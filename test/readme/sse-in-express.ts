import express from 'express';
import { toNodeHandler } from '@ferry/core';
import { Channel, streamEvents } from '@ferry/sse';

// One channel, many subscribers; the last 100 events are kept for clients that reconnect.
export const news = new Channel({ history: 100 });

const app = express();
// The stream: its head at once, what a reconnecting client missed (Last-Event-ID), then every
// new event; a departed client is noticed within a second, even while nothing is sent.
app.get(
  '/events',
  toNodeHandler([
    streamEvents((stream) => {
      news.subscribe(stream, { lastEventId: stream.lastEventId });
    }),
  ]),
);

app.post('/publish', express.text(), async (req, res) => {
  const event = await news.publish({ event: 'news', data: req.body });
  res.status(202).send(event.id);
});

export const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
