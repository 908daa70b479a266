// sse-fanout: Hono's streamSSE on @hono/node-server, with the fan-out a Hono app writes itself:
// a Set of open streams, each sent every event. Usage: node sse-hono.mjs PORT
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const streams = new Set();
const app = new Hono();

app.get('/sub', (c) =>
  streamSSE(c, async (stream) => {
    streams.add(stream);
    // Held open until the client leaves.
    await new Promise((resolve) => stream.onAbort(resolve));
    streams.delete(stream);
  }),
);
app.post('/pub', async (c) => {
  const data = await c.req.text();
  for (const stream of streams) void stream.writeSSE({ data });
  return c.body(null, 202);
});

serve({ fetch: app.fetch, port, hostname: HOST }, () => ready(port));
