import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { HttpProtocolName } from '@ferry/core';
import { defer, h1Request, rawSocket, RawClient, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { portOf } from '@ferry/test-kit/servers';

const ok = async (_req: unknown, res: { end(b: string): unknown }) => void res.end('served');

describe('max_header_bytes (maxHeaderBytes)', () => {
  it('answers 431 to an HTTP/1.1 request whose headers are too large, and serves a normal one', async () => {
    const server = await startServer({ maxHeaderBytes: 2048, handler: ok });
    const small = await h1Request({ host: '127.0.0.1', port: portOf(server), path: '/', headers: { 'x-pad': 'a'.repeat(500) } });
    expect(small.status).toBe(200);

    const client = await rawSocket(portOf(server));
    client.socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(8192)}\r\n\r\n`);
    const { head } = await client.head();
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    await client.closed;
  });

  it('answers 431 on the HTTP/1.1 fallback of a TLS h2 server too', async () => {
    const { ca, tls: certs } = certificates();
    const server = await startServer({ tls: certs, maxHeaderBytes: 2048, handler: ok });
    const socket = tlsConnect({ host: '127.0.0.1', port: portOf(server), ca, ALPNProtocols: ['http/1.1'], servername: 'localhost' });
    defer(() => socket.destroy());
    await once(socket, 'secureConnect');
    const client = new RawClient(socket);
    socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(8192)}\r\n\r\n`);
    const { head } = await client.head();
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers 431 on the cleartext port shared with h2c', async () => {
    const server = await startServer({ protocols: ['h1', 'h2c'], maxHeaderBytes: 2048, handler: ok });
    const client = await rawSocket(portOf(server));
    client.socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'a'.repeat(8192)}\r\n\r\n`);
    const { head } = await client.head();
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('read_header_timeout (readHeaderTimeout: 500ms)', () => {
  const variants: [string, HttpProtocolName[]][] = [
    ['HTTP/1.1', ['h1']],
    ['the port shared by HTTP/1.1 and h2c', ['h1', 'h2c']],
  ];
  for (const [label, protocols] of variants) {
    it(`${label}: a client that stalls in the request line is closed, while another is served`, async () => {
      const server = await startServer({ protocols, readHeaderTimeout: '500ms', handler: ok });
      const slow = await rawSocket(portOf(server));
      const started = performance.now();
      slow.socket.write('GET /slo');
      const served = await h1Request({ host: '127.0.0.1', port: portOf(server), path: '/' });
      expect(served.body.toString()).toBe('served');
      await slow.closed;
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(400);
      expect(took).toBeLessThan(2000);
    });

    it(`${label}: a client that connects and sends nothing is closed too`, async () => {
      const server = await startServer({ protocols, readHeaderTimeout: '500ms', handler: ok });
      const silent = await rawSocket(portOf(server));
      const started = performance.now();
      await silent.closed;
      expect(performance.now() - started).toBeLessThan(2000);
    });
  }

  it('HTTPS: a client that connects and never starts its TLS handshake is closed', async () => {
    const { tls: certs } = certificates();
    const server = await startServer({ tls: certs, readHeaderTimeout: '500ms', handler: ok });
    const silent = await rawSocket(portOf(server));
    const started = performance.now();
    await silent.closed;
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('HTTPS: a client that stalls in the request line after the handshake is closed', async () => {
    const { ca, tls: certs } = certificates();
    const server = await startServer({ tls: certs, readHeaderTimeout: '500ms', handler: ok });
    const socket = tlsConnect({ host: '127.0.0.1', port: portOf(server), ca, ALPNProtocols: ['http/1.1'], servername: 'localhost' });
    defer(() => socket.destroy());
    await once(socket, 'secureConnect');
    const client = new RawClient(socket);
    const started = performance.now();
    socket.write('GET /slo');
    await client.closed;
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
