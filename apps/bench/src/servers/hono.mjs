// Hono 4 on @hono/node-server, its Node adapter.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { BODY, CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const app = new Hono();

app.get('/', (c) => c.body(BODY, 200, { 'content-type': CONTENT_TYPE }));

serve({ fetch: app.fetch, port, hostname: HOST }, () => ready(port));
