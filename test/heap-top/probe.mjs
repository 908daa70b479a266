// Run by heap-top.test.ts as `node --expose-gc probe.mjs <upload|websocket|text|static>`: sends one
// 1 MiB request body (or relays 1 MiB over a WebSocket) through Ferry in this process, collects
// garbage, then allocates 8 MiB and prints, as JSON, how much was mapped outside glibc's heap for
// it. Nothing: glibc served it from its heap (its mmap threshold was raised); 8 MiB: it mmapped it.
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
const handlers = {
  static: () => staticResponse({ body: 'ok' }),
  text: () => async (req, res) => res.end(String((await req.text()).length)),
  upload: () => reverseProxy({ upstreams: [{ dial: `127.0.0.1:${upstream.address().port}` }] }),
  websocket: () => handlers.upload(),
};
const handler = handlers[mode]();
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

/**
 * What is mapped readable and writable outside glibc's main heap ([heap] in /proc/self/maps), in
 * bytes. Reservations (`---p`, as a new thread's malloc arena starts with 64 MiB of them) are not
 * memory anyone allocated.
 */
function mappedOutsideHeap() {
  let total = 0;
  for (const line of readFileSync('/proc/self/maps', 'latin1').split('\n')) {
    const [range, perms] = line.split(' ');
    if (!perms?.startsWith('rw') || line.endsWith('[heap]')) continue;
    const [from, to] = range.split('-').map((h) => Number.parseInt(h, 16));
    total += to - from;
  }
  return total;
}

await ferry.close();
upstream.close();
// Node 20 frees Ferry's one 16 MiB block at a collection, on a sweeper thread (Node 22+ at once):
// collect until Node's ArrayBuffer memory is below it, at most 200 times.
for (let i = 0; i < 200; i++) {
  globalThis.gc();
  if (process.memoryUsage().arrayBuffers < 16 * 1024 * 1024) break;
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const before = mappedOutsideHeap();
const block = Buffer.allocUnsafeSlow(8 * 1024 * 1024).fill(1);
process.stdout.write(`${JSON.stringify({ mapped: mappedOutsideHeap() - before, filled: block.length })}\n`);
