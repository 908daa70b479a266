// Hono 4 on @hono/node-server with the routes scenario's table (1 or 1,000 routes:
// routes-table.mjs), Hono's default router. A prefix route is Hono's wildcard `/route/0/*`.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';
import { countFromArgs, routeTable } from './routes-table.mjs';

const port = portFromArgs();
const app = new Hono();

for (const { kind, path, body } of routeTable(countFromArgs())) {
  app.get(kind === 'prefix' ? `${path}/*` : path, (c) => c.body(body, 200, { 'content-type': CONTENT_TYPE }));
}

serve({ fetch: app.fetch, port, hostname: HOST }, () => ready(port));
