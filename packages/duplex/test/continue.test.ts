/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1) is answered when the handler first reads the body, so a
 * handler that refuses the request never invites the upload. The handler sends a 103 first: on the
 * wire it is a marker — a 100 sent up front (before any handler ran) would arrive ahead of it.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { describe, expect, it } from 'vitest';
import type { FerryRequest, ResponseWriter, ServerOptions } from '@ferry/core';
import { defer, deferred, startServer } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Connect } from '@ferry/test-kit/clients';

/**
 * 103 as a marker, then (after `go`) the body is read and its length answered; `/refuse` answers
 * 413 unread. Every call is recorded with its protocol: one request, one call.
 */
function handler(go: Promise<void>, calls: string[]) {
  return async (req: FerryRequest, res: ResponseWriter) => {
    calls.push(req.protocol);
    if (req.path === '/refuse') {
      res.statusCode = 413;
      res.end('too large\n');
      return;
    }
    res.writeInformational(103, { link: '</style.css>; rel=preload' });
    await go;
    let n = 0;
    for await (const c of req.body) n += (c as Buffer).length;
    res.end(`read ${n}\n`);
  };
}

const text = async (res: AsyncIterable<unknown>) => {
  let s = '';
  for await (const c of res) s += String(c);
  return s;
};

describe.each([
  { name: 'HTTP/1.1 (node:http client)', tls: false },
  { name: 'HTTP/1.1 over TLS, beside h2 (node:https client)', tls: true },
])('Expect: 100-continue over $name', ({ tls }) => {
  const start = (h: ReturnType<typeof handler>) =>
    startServer(tls ? { tls: certificates().tls, protocols: ['h1', 'h2'], handler: h } : { handler: h });
  const newAgent = () => {
    const agent = tls
      ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: certificates().ca })
      : new Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    return agent;
  };

  /** POSTs `body` with Expect: 100-continue, sending it on 100 only; records every event in order. */
  function post(url: string, path: string, agent: Agent, body: string, onEvent: (e: string) => void) {
    return new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
      const options = { method: 'POST', agent, headers: { expect: '100-continue', 'content-length': body.length } };
      const req = (tls ? httpsRequest : httpRequest)(new URL(path, url), options);
      // Node reports every 1xx here, 100 included; 100 is recorded from 'continue'.
      req.on('information', (info) => info.statusCode !== 100 && onEvent(String(info.statusCode)));
      req.on('continue', () => {
        onEvent('100');
        if (!req.writableEnded) req.end(body);
      });
      req.on('response', (res) => {
        onEvent(`response ${res.statusCode}`);
        text(res).then((t) => resolve({ res, text: t }), reject);
      });
      req.on('error', reject);
    });
  }

  it('sends 100 Continue only once the handler reads the body', async () => {
    const go = deferred();
    const calls: string[] = [];
    const server = await start(handler(go.promise, calls));
    const events: string[] = [];
    const { res, text } = await post(server.url, '/upload', newAgent(), 'hello', (e) => {
      events.push(e);
      // The handler is running (its 103 is here) and has not read: no 100 may have come yet.
      if (e === '103') go.resolve();
    });
    expect(events).toEqual(['103', '100', 'response 200']);
    expect(res.statusCode).toBe(200);
    expect(text).toBe('read 5\n');
    expect(calls).toEqual(['http/1.1']);
  });

  it('never sends 100 to a handler that answers 413 unread; the client gets the 413 and the agent keeps working', async () => {
    const calls: string[] = [];
    const server = await start(handler(Promise.resolve(), calls));
    const agent = newAgent();
    const events: string[] = [];
    const refused = await post(server.url, '/refuse', agent, 'x'.repeat(1000), (e) => events.push(e));
    expect(events).toEqual(['response 413']);
    expect(refused.text).toBe('too large\n');
    // The client may or may not still send the body: the connection is in an unknown state, so it
    // is closed cleanly (announced), never left to misread a late body as the next request.
    expect(refused.res.headers.connection).toBe('close');
    const again: string[] = [];
    const second = await post(server.url, '/upload', agent, 'hello', (e) => again.push(e));
    expect(second.text).toBe('read 5\n');
    expect(again).toEqual(['103', '100', 'response 200']);
  });
});

describe.each(['h2', 'h2c'] as const)('Expect: 100-continue over %s (node:http2 client)', (proto) => {
  const start = (h: ReturnType<typeof handler>) => {
    const options: ServerOptions = proto === 'h2' ? { tls: certificates().tls, protocols: ['h1', 'h2'] } : { protocols: ['h1', 'h2c'] };
    return startServer({ ...options, handler: h });
  };
  const connect = (url: string) => h2Connect(url, proto === 'h2' ? { ca: certificates().ca } : {});

  function post(session: ReturnType<typeof h2Connect>, path: string, body: string, onEvent: (e: string) => void) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const stream = session.request(
        { ':method': 'POST', ':path': path, expect: '100-continue', 'content-length': body.length },
        { endStream: false },
      );
      // Node reports every 1xx here, 100 included; 100 is recorded from 'continue'.
      stream.on('headers', (h) => h[':status'] !== 100 && onEvent(String(h[':status'])));
      stream.on('continue', () => {
        onEvent('100');
        if (!stream.writableEnded) stream.end(body);
      });
      stream.on('response', (h) => {
        onEvent(`response ${h[':status']}`);
        text(stream).then((t) => resolve({ status: Number(h[':status']), text: t }), reject);
      });
      stream.on('error', reject);
    });
  }

  it('sends 100 Continue only once the handler reads the body', async () => {
    const go = deferred();
    const calls: string[] = [];
    const server = await start(handler(go.promise, calls));
    const events: string[] = [];
    const r = await post(connect(server.url), '/upload', 'hello', (e) => {
      events.push(e);
      if (e === '103') go.resolve();
    });
    expect(calls).toEqual([proto]);
    expect(events).toEqual(['103', '100', 'response 200']);
    expect(r.text).toBe('read 5\n');
  });

  it('never sends 100 to a handler that answers 413 unread, and the session stays usable', async () => {
    const calls: string[] = [];
    const server = await start(handler(Promise.resolve(), calls));
    const session = connect(server.url);
    const events: string[] = [];
    const refused = await post(session, '/refuse', 'x'.repeat(1000), (e) => events.push(e));
    expect(calls).toEqual([proto]);
    expect(events).toEqual(['response 413']);
    expect(refused.text).toBe('too large\n');
    const again = await post(session, '/upload', 'hello', () => {});
    expect(again.text).toBe('read 5\n');
  });
});
