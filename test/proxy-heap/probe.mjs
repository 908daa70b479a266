// Run by heap-top.test.ts as `node --expose-gc probe.mjs <upload|websocket|static>`: sends one
// 1 MiB request body (or relays 1 MiB over a WebSocket) through Ferry in this process, collects
// garbage, then allocates 8 MiB and prints, as JSON, how much glibc's heap grew for it. Grown by
// 8 MiB: glibc served it from its heap (its mmap threshold was raised); not grown: it mmapped it.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, request } from 'node:http';
import { createServer, staticResponse } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';

const mode = process.argv[2];
const BODY = Buffer.alloc(1024 * 1024, 'x');

const upstream = createHttpServer((req, res) => {
  let n = 0;
  req.on('data', (c) => (n += c.length));
  req.on('end', () => res.end(String(n)));
});
// A WebSocket upstream reduced to its handshake and a byte echo: the relay copies bytes, not frames.
upstream.on('upgrade', (req, socket) => {
  const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.pipe(socket);
});
upstream.listen(0, '127.0.0.1');
await once(upstream, 'listening');
const handler =
  mode === 'static' ? staticResponse({ body: 'ok' }) : reverseProxy({ upstreams: [{ dial: `127.0.0.1:${upstream.address().port}` }] });
const ferry = createServer({ listen: '127.0.0.1:0', handler: [handler] });
await ferry.listen();
const port = ferry.addresses[0].port;

if (mode === 'websocket') await echo(port);
else await upload(port);

function upload(port) {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers: { 'content-length': BODY.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(BODY);
  });
}

function echo(port) {
  return new Promise((resolve, reject) => {
    const key = Buffer.alloc(16, 1).toString('base64');
    const headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key };
    const req = request({ port, host: '127.0.0.1', headers });
    req.on('error', reject);
    req.on('response', (res) => reject(new Error(`status ${res.statusCode}`)));
    req.on('upgrade', (_res, socket) => {
      let got = 0;
      socket.on('data', (c) => {
        got += c.length;
        if (got === BODY.length) socket.end();
      });
      socket.on('close', () => (got === BODY.length ? resolve() : reject(new Error(`echoed ${got} bytes`))));
      socket.write(BODY);
    });
    req.end();
  });
}

/** The size of glibc's main heap ([heap] in /proc/self/maps), in bytes. */
function heapSize() {
  const line = readFileSync('/proc/self/maps', 'latin1')
    .split('\n')
    .find((l) => l.endsWith('[heap]'));
  if (!line) return 0;
  const [from, to] = line
    .split(' ')[0]
    .split('-')
    .map((h) => Number.parseInt(h, 16));
  return to - from;
}

await ferry.close();
upstream.close();
// Node 20 frees the proxy's one 16 MiB block at a collection (Node 22+ at once).
globalThis.gc();
globalThis.gc();
const before = heapSize();
const block = Buffer.allocUnsafeSlow(8 * 1024 * 1024).fill(1);
process.stdout.write(`${JSON.stringify({ grew: heapSize() - before, filled: block.length })}\n`);
