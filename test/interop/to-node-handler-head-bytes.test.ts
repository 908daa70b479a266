/**
 * `reverse_proxy` mounted in Express (toNodeHandler) passes an upstream's field value with bytes
 * past ASCII — a raw UTF-8 filename in Content-Disposition — to the client byte for byte, as from
 * Ferry's own server: with a body of known length (Node read that field as UTF-8 there), chunked,
 * and as an event stream whose head is flushed first (Node wrote that head as UTF-8). Express
 * makes the response objects and replaces their prototype; the fixes ride on the objects.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as tcpServer, type Server as TcpServer } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeListener, toNodeHandler } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';

/** `attachment; filename="café €.txt"` as UTF-8 bytes on the wire. */
const DISPOSITION = Buffer.from('attachment; filename="café €.txt"', 'utf8');

const tails: Record<string, string> = {
  '/sized': 'Content-Length: 2\r\n\r\nok',
  '/chunked': 'Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  '/events': 'Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: ok\n\r\n0\r\n\r\n',
};

let upstream: TcpServer;
let host: Server;
let listener: NodeListener;
let port = 0;

async function listening(server: Server | TcpServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  // A raw upstream: the field's bytes go out exactly as written, whatever Node would make of them.
  upstream = tcpServer((socket) => {
    let got = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const head = /^GET (\S+) HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n/.exec(got);
      if (!head) return;
      got = got.slice(head[0].length);
      const tail = tails[head[1]!] ?? 'Content-Length: 0\r\n\r\n';
      socket.write(
        Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Disposition: '), DISPOSITION, Buffer.from(`\r\n${tail}`, 'latin1')]),
      );
    });
  });
  const upstreamPort = await listening(upstream);
  listener = toNodeHandler({ logger: false, routes: [{ handle: [reverseProxy({ upstreams: [{ dial: `127.0.0.1:${upstreamPort}` }] })] }] });
  const app = express();
  app.use(listener);
  host = createServer(app);
  port = await listening(host);
});

afterAll(async () => {
  await listener.close({ gracePeriod: 0 });
  host.closeAllConnections();
  await new Promise((resolve) => host.close(resolve));
  await new Promise((resolve) => upstream.close(resolve));
});

/** Sends `GET path` on a fresh connection; resolves with every byte once the response is whole. */
async function get(path: string): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  let all = Buffer.alloc(0);
  const whole = (b: Buffer) => b.includes('ok') && (path === '/sized' || b.includes('0\r\n\r\n'));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not whole within 5 s: ${all.toString('latin1')}`)), 5000);
      socket.on('data', (d: Buffer) => {
        all = Buffer.concat([all, d]);
        if (whole(all)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    socket.destroy();
  }
  return all;
}

describe('reverse_proxy inside Express: upstream field bytes past ASCII', () => {
  it.each(Object.keys(tails))('reach the client byte for byte (%s)', async (path) => {
    const got = await get(path);
    const field = Buffer.concat([Buffer.from('\r\ncontent-disposition: '), DISPOSITION, Buffer.from('\r\n')]);
    expect(got.includes(field), got.toString('latin1')).toBe(true);
    expect(got.subarray(0, 15).toString()).toBe('HTTP/1.1 200 OK');
  });
});
