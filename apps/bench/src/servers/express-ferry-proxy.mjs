// Express 5 with Ferry's reverse_proxy mounted through toNodeHandler, as @ferry/proxy's README
// shows: every request to the upstream, with reverse_proxy's defaults (its own keep-alive pool).
// Usage: node express-ferry-proxy.mjs PORT UPSTREAM_PORT
import express from 'express';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';
import { importFerry } from './ferry-packages.mjs';

const { toNodeHandler } = await importFerry('@ferry/core');
const { reverseProxy } = await importFerry('@ferry/proxy');

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const app = express();

app.use('/', toNodeHandler({ logger: false, handler: [reverseProxy({ upstreams: [{ dial: `${HOST}:${upstreamPort}` }] })] }));

app.listen(port, HOST, () => ready(port));
