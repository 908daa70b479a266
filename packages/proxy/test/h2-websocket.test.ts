import { once } from 'node:events';
import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { startProxy, type ProxyOptions } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { connectProtocolAllowed, h2Session } from '@ferry/test-kit/clients';
import { httpUpstream, wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { encodeFrame, nextFrame, OP_TEXT } from '@ferry/test-kit/ws-frames';
import type { HandlerInput } from '@ferry/core';

/** Opens an RFC 8441 extended CONNECT for `websocket` once the server allowed it in its SETTINGS. */
async function extendedConnect(session: ClientHttp2Session, scheme: 'https' | 'http', extra: Record<string, string> = {}) {
  expect(await connectProtocolAllowed(session)).toBe(true);
  const stream = session.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': scheme, ':path': '/chat?room=1', 'sec-websocket-version': '13', ...extra },
    { endStream: false },
  );
  stream.on('error', () => {});
  return stream;
}

/** A proxy to a `ws` echo upstream served over h2 (TLS) or h2c, optionally with middlewares in front. */
async function setup(kind: 'h2' | 'h2c', before: readonly HandlerInput[] = [], options: Partial<ProxyOptions> = {}) {
  const up = await wsEchoUpstream();
  const { tls, ca } = certificates();
  const proxy = await startProxy(
    { upstreams: [{ dial: up.dial }], ...options },
    kind === 'h2' ? { tls, protocols: ['h1', 'h2'], before } : { protocols: ['h1', 'h2c'], before },
  );
  const session = await h2Session(proxy.url, kind === 'h2' ? { ca } : {});
  return { up, proxy, session };
}

/** Status 200 with nothing sent yet, then a masked text frame and its echo. */
async function roundTrip(session: ClientHttp2Session, scheme: 'https' | 'http', extra: Record<string, string> = {}) {
  const stream = await extendedConnect(session, scheme, extra);
  // The 200 must come while the client has sent nothing: a client that waits for it would
  // otherwise wait forever (field lesson 3).
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  expect(headers[':status']).toBe(200);
  const echo = nextFrame(stream);
  stream.write(encodeFrame('hello over h2', { mask: true }));
  const frame = await echo;
  expect(frame.opcode).toBe(OP_TEXT);
  expect(frame.masked).toBe(false);
  expect(frame.payload.toString()).toBe('hello over h2');
  return { stream, headers };
}

describe('WebSocket over h2, RFC 8441 (field lesson 3)', () => {
  it('proxies an extended CONNECT over TLS h2 to an HTTP/1.1 WebSocket upstream', async () => {
    const { up, session } = await setup('h2');
    const { headers } = await roundTrip(session, 'https');
    expect(headers['sec-websocket-accept']).toBeUndefined();
    const hs = up.handshakes[0]!;
    expect(hs.method).toBe('GET');
    expect(hs.url).toBe('/chat?room=1');
    expect(hs.headers.upgrade).toBe('websocket');
    expect(hs.headers.connection?.toLowerCase()).toContain('upgrade');
    expect(Buffer.from(hs.headers['sec-websocket-key']!, 'base64')).toHaveLength(16);
    expect(hs.headers['sec-websocket-version']).toBe('13');
  });

  it('proxies an extended CONNECT over h2c', async () => {
    const { up, session } = await setup('h2c');
    const { headers } = await roundTrip(session, 'http');
    expect(headers['sec-websocket-accept']).toBeUndefined();
    expect(up.handshakes[0]!.headers.upgrade).toBe('websocket');
  });

  it('answers 200 without Content-Length, even when response header ops set one', async () => {
    const { session } = await setup('h2', [], { headers: { response: { set: { 'Content-Length': ['0'] } } } });
    const { headers } = await roundTrip(session, 'https');
    expect(headers['content-length']).toBeUndefined();
  });

  it('gives every stream a fresh Sec-WebSocket-Key toward the upstream', async () => {
    const { up, session } = await setup('h2');
    await roundTrip(session, 'https');
    await roundTrip(session, 'https');
    const keys = up.handshakes.map((h) => h.headers['sec-websocket-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
  });
});

/** An HTTP/1.1 upstream that never switches: it answers every request with `status` and `body`. */
async function refusing(status: number, body: string) {
  return httpUpstream('refusing', (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

/** The answer to an extended CONNECT, read to its end: status, header fields and body. */
async function answerTo(session: ClientHttp2Session) {
  const stream = await extendedConnect(session, 'https');
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  let body = '';
  for await (const c of stream) body += String(c);
  return { status: headers[':status'], headers, body };
}

describe('an extended CONNECT the upstream does not upgrade (RFC 8441, RFC 9110 §9.3.6)', () => {
  async function through(status: number, body: string) {
    const up = await refusing(status, body);
    const { tls, ca } = certificates();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { tls, protocols: ['h1', 'h2'] });
    return answerTo(await h2Session(proxy.url, { ca }));
  }

  it('gets 502, not a 2xx that would open the tunnel, when the upstream answers 200 with a body', async () => {
    const r = await through(200, 'an ordinary page');
    expect(r.status).toBe(502);
    expect(r.body).not.toContain('an ordinary page');
  });

  it('does not count that 200 against the upstream: ordinary requests still reach it', async () => {
    const up = await refusing(200, 'an ordinary page');
    const { tls, ca } = certificates();
    const proxy = await startProxy(
      { upstreams: [{ dial: up.dial }], healthChecks: { passive: { failDuration: '1m', maxFails: 1 } } },
      { tls, protocols: ['h1', 'h2'] },
    );
    const session = await h2Session(proxy.url, { ca });
    expect((await answerTo(session)).status).toBe(502);
    const stream = session.request({ ':path': '/' });
    const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    stream.resume();
    expect(headers[':status']).toBe(200);
  });

  it("gets the upstream's 403 and its body as an ordinary response", async () => {
    const r = await through(403, 'no websockets for you');
    expect(r.status).toBe(403);
    expect(r.body).toBe('no websockets for you');
  });

  it("gets the upstream's 426 and its body as an ordinary response", async () => {
    const r = await through(426, 'upgrade required');
    expect(r.status).toBe(426);
    expect(r.body).toBe('upgrade required');
  });

  it("gets the upstream's redirect as an ordinary response", async () => {
    const r = await through(302, 'elsewhere');
    expect(r.status).toBe(302);
    expect(r.body).toBe('elsewhere');
  });
});
