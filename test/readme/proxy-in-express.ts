import { createServer } from 'node:http';
import express from 'express';
import { attachUpgrades, route, toNodeHandler } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';

// /api/* goes to the backend, WebSocket upgrades included; everything else is Express's.
const api = toNodeHandler({
  routes: [route('/api/*', reverseProxy({ upstreams: [{ dial: process.env.API ?? '127.0.0.1:9000' }] }))],
});

const app = express();
app.use(api);
app.get('/', (_req, res) => {
  res.send('the app');
});

export const server = createServer(app).listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
attachUpgrades(server, api);
