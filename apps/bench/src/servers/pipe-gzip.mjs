// The gzip scenario's baseline for the proxy path: the hand-written proxy (http.request with a
// keep-alive agent) that reads the upstream's whole body and compresses it with one zlib.gzip
// call (Node's threadpool), at the scenario's level. It pays for the same upstream on the same
// core as Ferry's encode + reverse_proxy, so the two compare the proxy paths alone.
// Usage: node pipe-gzip.mjs PORT UPSTREAM_PORT
import { Agent, createServer, request } from 'node:http';
import { gzip } from 'node:zlib';
import { HOST, portFromArgs, ready, upstreamPortFromArgs } from './common.mjs';
import { GZIP_LEVEL } from './json-body.mjs';

const port = portFromArgs();
const upstreamPort = upstreamPortFromArgs();
const agent = new Agent({ keepAlive: true });

createServer((req, res) => {
  const upstream = request({ host: HOST, port: upstreamPort, method: req.method, path: req.url, agent }, (answer) => {
    const chunks = [];
    answer.on('data', (chunk) => chunks.push(chunk));
    answer.on('error', () => res.destroy());
    answer.on('end', () => {
      res.statusCode = answer.statusCode;
      res.setHeader('content-type', answer.headers['content-type'] ?? 'application/octet-stream');
      res.setHeader('vary', 'Accept-Encoding');
      gzip(Buffer.concat(chunks), { level: GZIP_LEVEL }, (error, compressed) => {
        if (error) return res.destroy();
        res.setHeader('content-encoding', 'gzip');
        res.end(compressed);
      });
    });
  });
  upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
  req.pipe(upstream);
}).listen(port, HOST, () => ready(port));
