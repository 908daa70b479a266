// http-proxy (npm), the most used Node proxy library: a keep-alive agent to the upstream, and
// WebSocket upgrades passed on with its `ws` support. Usage: node http-proxy.mjs PORT UPSTREAM_PORT
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const proxy = httpProxy.createProxyServer({ target: `http://${HOST}:${upstreamPort}`, agent: new Agent({ keepAlive: true }), ws: true });

// Without a listener, http-proxy throws its errors; answer 502 (or drop the socket) instead.
proxy.on('error', (_error, _req, res) => {
  if (typeof res.writeHead !== 'function') res.destroy();
  else if (res.headersSent) res.destroy();
  else res.writeHead(502).end();
});

const server = createServer((req, res) => proxy.web(req, res));
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
server.listen(port, HOST, () => ready(port));
