import express from 'express';
import { createServer, fromNodeHandler, headers } from '@ferry/core';
import { encode } from '@ferry/encode';

const app = express();
app.get('/users/:id', (req, res) => {
  res.cookie('last-seen', req.params.id);
  res.json({ id: req.params.id });
});
app.get('/report', (_req, res) => {
  res.json(Array.from({ length: 200 }, (_, day) => ({ day, visits: day * 7 })));
});
app.get('/old', (_req, res) => res.redirect(301, '/users/1'));

export const server = createServer({
  listen: process.env.LISTEN ?? '127.0.0.1:8080',
  handler: [
    encode(),
    headers({ response: { set: { 'strict-transport-security': ['max-age=31536000'] } } }),
    // Express answers what it has a route for; the rest goes on down Ferry's chain.
    fromNodeHandler(app),
    async (_req, res) => {
      res.statusCode = 404;
      res.end('not here either\n');
    },
  ],
});
await server.listen();
