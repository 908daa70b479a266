import { createServer, method, path } from '@ferry/core';
import { Channel, streamEvents } from '../src/index.js';

// One channel, many subscribers; the last 100 events are kept for clients that reconnect.
const news = new Channel({ history: 100 });

export const server = createServer({
  listen: process.env.LISTEN ?? 'localhost:8080',
  routes: [
    {
      match: [path('/events')],
      handle: [
        streamEvents(
          (stream) => {
            // First what the client missed (per its Last-Event-ID), then every new event.
            news.subscribe(stream, { lastEventId: stream.lastEventId });
            stream.send({ event: 'hello', data: { subscribers: news.size } });
          },
          { heartbeat: '15s' },
        ),
      ],
      terminal: true,
    },
    {
      match: [[method('POST'), path('/publish')]],
      handle: [
        async (req, res) => {
          let text = '';
          for await (const chunk of req.body) text += chunk;
          const ev = await news.publish({ event: 'news', data: text });
          res.statusCode = 202;
          res.end(ev.id);
        },
      ],
    },
  ],
});
await server.listen();

// A clock for every subscriber; on stop, end the streams so close() need not wait for them.
const clock = setInterval(() => void news.publish({ event: 'tick', data: new Date().toISOString() }), 1000);
server.stopping.addEventListener('abort', () => {
  clearInterval(clock);
  news.closeAll();
});
