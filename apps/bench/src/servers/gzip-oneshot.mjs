// The gzip scenario's baseline: raw node:http compressing the body with one zlib.gzip call per
// request (Node's threadpool, no streams), at the scenario's level. Usage: node gzip-oneshot.mjs PORT
import { createServer } from 'node:http';
import { gzip } from 'node:zlib';
import { HOST, portFromArgs, ready } from './common.mjs';
import { GZIP_LEVEL, JSON_BODY, JSON_TYPE } from './json-body.mjs';

const port = portFromArgs();
const body = Buffer.from(JSON_BODY);

createServer((req, res) => {
  res.setHeader('content-type', JSON_TYPE);
  res.setHeader('vary', 'Accept-Encoding');
  // Enough negotiation for the scenario's two Accept-Encoding values; identity otherwise.
  if (!/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return res.end(body);
  gzip(body, { level: GZIP_LEVEL }, (error, compressed) => {
    if (error) return res.writeHead(500).end();
    res.setHeader('content-encoding', 'gzip');
    res.end(compressed);
  });
}).listen(port, HOST, () => ready(port));
