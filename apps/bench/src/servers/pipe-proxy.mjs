// The hand-written proxy: http.request with a keep-alive agent, bodies piped both ways, the
// hop-by-hop fields of RFC 9110 §7.6.1 dropped. What a user writes instead of adopting a proxy.
// Usage: node pipe-proxy.mjs PORT UPSTREAM_PORT
import { Agent, createServer, request } from 'node:http';
import { pipeline } from 'node:stream';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const agent = new Agent({ keepAlive: true });
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function withoutHopByHop(headers) {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

createServer((req, res) => {
  const options = { host: HOST, port: upstreamPort, method: req.method, path: req.url, headers: withoutHopByHop(req.headers), agent };
  const upstream = request(options, (answer) => {
    res.writeHead(answer.statusCode, withoutHopByHop(answer.headers));
    pipeline(answer, res, () => {});
  });
  pipeline(req, upstream, (error) => {
    if (!error) return;
    if (res.headersSent) res.destroy();
    else res.writeHead(502).end();
  });
}).listen(port, HOST, () => ready(port));
