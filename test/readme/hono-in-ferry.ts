import { Hono } from 'hono';
import { createServer, fromFetch } from '@ferry/core';
import { encode } from '@ferry/encode';

const app = new Hono();
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));

export const server = createServer({
  listen: process.env.LISTEN ?? '127.0.0.1:8080',
  handler: [encode(), fromFetch(app.fetch)],
});
await server.listen();
