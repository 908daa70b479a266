import { describe, expect, it } from 'vitest';
import type { FerryRequest, Handler } from '@ferry/core';
import { h1Request, h2Request, remoteSettings, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';

/** Answers with what the request looked like to the handler, and counts calls. */
function reporter() {
  const seen: FerryRequest[] = [];
  const handler: Handler = async (req, res) => {
    seen.push(req);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ protocol: req.protocol, secure: req.secure, method: req.method, path: req.path }));
  };
  return { seen, handler };
}

describe('h2 over TLS, with HTTP/1.1 fallback on the same port', () => {
  it('serves an h2 client (ALPN h2) as protocol "h2", secure', async () => {
    const { ca, tls: certs } = certificates();
    const r = reporter();
    const server = await startServer({ tls: certs, handler: r.handler });
    const session = await h2Session(server.url, { ca });
    expect(session.alpnProtocol).toBe('h2');
    const answer = await h2Request(session, { ':path': '/hello' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ protocol: 'h2', secure: true, method: 'GET', path: '/hello' });
    expect(r.seen).toHaveLength(1);
  });

  it('serves an HTTP/1.1 client (ALPN http/1.1) on the same port as protocol "http/1.1", secure', async () => {
    const { ca, tls: certs } = certificates();
    const r = reporter();
    const server = await startServer({ tls: certs, handler: r.handler });
    const answer = await h1Request({
      secure: true,
      host: '127.0.0.1',
      port: portOf(server),
      path: '/old',
      ca,
      ALPNProtocols: ['http/1.1'],
    });
    expect(answer.status).toBe(200);
    expect((answer.res.socket as import('node:tls').TLSSocket).alpnProtocol).toBe('http/1.1');
    expect(JSON.parse(answer.body.toString())).toEqual({ protocol: 'http/1.1', secure: true, method: 'GET', path: '/old' });
    expect(r.seen).toHaveLength(1);
  });

  it('serves HTTPS over HTTP/1.1 only when h2 is not among the protocols', async () => {
    const { ca, tls: certs } = certificates();
    const r = reporter();
    const server = await startServer({ tls: certs, protocols: ['h1'], handler: r.handler });
    const answer = await h1Request({
      secure: true,
      host: '127.0.0.1',
      port: portOf(server),
      path: '/',
      ca,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    expect(JSON.parse(answer.body.toString())).toMatchObject({ protocol: 'http/1.1', secure: true });
  });
});

describe('h2c by prior knowledge', () => {
  it('serves h2c and HTTP/1.1 on one cleartext port with protocols ["h1", "h2c"]', async () => {
    const r = reporter();
    const server = await startServer({ protocols: ['h1', 'h2c'], handler: r.handler });
    const session = await h2Session(server.url);
    const a2 = await h2Request(session, { ':path': '/two' });
    expect(JSON.parse(a2.body.toString())).toEqual({ protocol: 'h2c', secure: false, method: 'GET', path: '/two' });
    // A second request on the same session: the sniffed connection keeps working.
    const a2b = await h2Request(session, { ':path': '/two-again', ':method': 'POST' }, 'payload');
    expect(JSON.parse(a2b.body.toString())).toMatchObject({ protocol: 'h2c', method: 'POST', path: '/two-again' });
    const a1 = await h1Request({ host: '127.0.0.1', port: portOf(server), path: '/one' });
    expect(JSON.parse(a1.body.toString())).toEqual({ protocol: 'http/1.1', secure: false, method: 'GET', path: '/one' });
    expect(r.seen).toHaveLength(3);
    expect(r.seen[0]!.remoteAddress).toBe('127.0.0.1');
  });

  it('serves h2c alone with protocols ["h2c"]', async () => {
    const r = reporter();
    const server = await startServer({ protocols: ['h2c'], handler: r.handler });
    const session = await h2Session(server.url);
    const answer = await h2Request(session, { ':path': '/only' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ protocol: 'h2c', secure: false, method: 'GET', path: '/only' });
  });
});

describe('SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)', () => {
  it('is advertised on h2', async () => {
    const { ca, tls: certs } = certificates();
    const server = await startServer({ tls: certs, handler: async (_req, res) => void res.end() });
    const session = await h2Session(server.url, { ca });
    expect((await remoteSettings(session)).enableConnectProtocol).toBe(true);
  });

  it('is advertised on h2c (shared port and h2c-only)', async () => {
    for (const protocols of [['h1', 'h2c'], ['h2c']] as const) {
      const server = await startServer({ protocols, handler: async (_req, res) => void res.end() });
      const session = await h2Session(server.url);
      expect((await remoteSettings(session)).enableConnectProtocol).toBe(true);
    }
  });
});
