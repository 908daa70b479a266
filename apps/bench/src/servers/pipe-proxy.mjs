// The hand-written proxy: http.request with a keep-alive agent, bodies piped both ways, the
// hop-by-hop fields of RFC 9110 §7.6.1 dropped. The ~20 lines a user writes instead of adopting
// a proxy, written as such code usually is (`.pipe`, the header objects edited in place).
// Usage: node pipe-proxy.mjs PORT UPSTREAM_PORT
import { Agent, createServer, request } from 'node:http';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const agent = new Agent({ keepAlive: true });
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function dropHopByHop(headers) {
  for (const name of HOP_BY_HOP) if (name in headers) delete headers[name];
  return headers;
}

createServer((req, res) => {
  const options = { host: HOST, port: upstreamPort, method: req.method, path: req.url, headers: dropHopByHop(req.headers), agent };
  const upstream = request(options, (answer) => {
    res.writeHead(answer.statusCode, dropHopByHop(answer.headers));
    // An upstream that dies mid-body: the client's response cannot be completed either.
    answer.on('error', () => res.destroy());
    answer.pipe(res);
  });
  upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.pipe(upstream);
}).listen(port, HOST, () => ready(port));
