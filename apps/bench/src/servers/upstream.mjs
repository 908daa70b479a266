// The raw node:http upstream every proxy contender forwards to (and, alone, the `direct` row):
// the 13-byte hello, 64 KiB of fixed bytes, an upload it counts, an echo, and the gzip
// scenario's JSON, uncompressed. Usage: node upstream.mjs PORT
import { createServer } from 'node:http';
import { BODY, CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';
import { JSON_BODY } from './json-body.mjs';
import { deterministicBytes, LARGE, PATHS, uploadAnswer } from './payloads.mjs';

const port = portFromArgs();
const large = deterministicBytes(LARGE);
const json = Buffer.from(JSON_BODY);

/** Static answers by path; setHeader + end(body) so Node sends Content-Length, not chunks. */
const fixed = new Map([
  [PATHS.hello, [CONTENT_TYPE, BODY]],
  [PATHS.large, ['application/octet-stream', large]],
  [PATHS.json, ['application/json', json]],
]);

function answer(res, type, body) {
  res.setHeader('content-type', type);
  res.end(body);
}

const server = createServer((req, res) => {
  const found = req.method === 'GET' && fixed.get(req.url);
  if (found) return answer(res, ...found);
  if (req.method !== 'POST' || (req.url !== PATHS.upload && req.url !== PATHS.echo)) {
    res.statusCode = 404;
    return res.end();
  }
  const chunks = [];
  let bytes = 0;
  req.on('data', (chunk) => {
    bytes += chunk.length;
    if (req.url === PATHS.echo) chunks.push(chunk);
  });
  req.on('end', () =>
    req.url === PATHS.echo
      ? answer(res, 'application/octet-stream', Buffer.concat(chunks))
      : answer(res, CONTENT_TYPE, uploadAnswer(bytes)),
  );
});
// Behind a proxy that pools connections: idle ones stay open longer than Node's 5 s default,
// as the proxies' own pools expect (a close racing a reuse would be a spurious 502).
server.keepAliveTimeout = 120_000;
server.listen(port, HOST, () => ready(port));
