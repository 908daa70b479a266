// Express 5 + http-proxy-middleware (npm), Express's usual proxy: every request to the
// upstream over a keep-alive agent. Usage: node express-hpm.mjs PORT UPSTREAM_PORT
import { Agent } from 'node:http';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const app = express();

app.use('/', createProxyMiddleware({ target: `http://${HOST}:${upstreamPort}`, agent: new Agent({ keepAlive: true }) }));

app.listen(port, HOST, () => ready(port));
