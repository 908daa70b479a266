import { Hono } from 'hono';
import { route, toFetch } from '@ferry/core';
import { encode } from '@ferry/encode';

export const ferry = toFetch({
  routes: [
    route('GET', '/ferry/users/:id', encode(), async (req, res) => {
      res.setCookie('last-seen', req.params.id);
      res.end(JSON.stringify({ id: req.params.id }));
    }),
  ],
});

export const app = new Hono();
app.get('/ferry/*', (c) => ferry(c.req.raw));
