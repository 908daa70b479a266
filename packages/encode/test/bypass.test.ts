/**
 * Field lesson 3 (SPEC §10): Caddy's encode held the 200 of an h2 extended CONNECT while it
 * waited for body bytes; with a WebSocket protocol where the client speaks first, both sides
 * then waited forever. In Ferry, CONNECT and Upgrade requests bypass encode: the writer is not
 * wrapped, the status goes out when the handler sends it, and hijack reaches the handler.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ClientHttp2Stream } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Handler, ResponseWriter } from '@ferry/core';
import { encode, EncodeWriter } from '../src/index.js';
import { defer, deferred, serve } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { connectProtocolAllowed, h2Session } from '@ferry/test-kit/clients';
import { encodeFrame, FrameReader, OP_CLOSE, OP_TEXT, type Frame } from '@ferry/test-kit/ws-frames';

// A held status is a wait that never ends: fail in seconds, not at the suite timeout.
const DEADLOCK = { timeout: 5000 };

/** What the handler behind encode was given. */
interface Seen {
  wrapped: boolean;
  canHijack: boolean;
}
const look = (res: ResponseWriter): Seen => ({ wrapped: res instanceof EncodeWriter, canHijack: typeof res.hijack === 'function' });

/**
 * A WebSocket echo over an RFC 8441 extended CONNECT stream: answers 200 (RFC 8441 §5: 200 stands
 * for 101 on h2) and then writes nothing until the client's first message has arrived — the
 * protocol shape of field lesson 3. With `flush`, it also calls res.flush() after the 200.
 */
function wsEchoOverH2(options: { flush: boolean }) {
  const seen: Seen[] = [];
  const handler: Handler = async (req, res) => {
    seen.push(look(res));
    if (req.extendedConnectProtocol !== 'websocket') {
      res.statusCode = 400;
      res.end();
      return;
    }
    res.writeHead(200);
    if (options.flush) res.flush();
    const reader = new FrameReader();
    for await (const chunk of req.body) {
      for (const frame of reader.push(chunk as Buffer)) {
        // RFC 6455 §5.1: a server closes on an unmasked client frame.
        if (!frame.masked || frame.opcode === OP_CLOSE) {
          res.end(encodeFrame(Buffer.from([0x03, 0xe8]), { mask: false, opcode: OP_CLOSE }));
          return;
        }
        res.write(encodeFrame(frame.payload, { mask: false, opcode: frame.opcode }));
      }
    }
    res.end();
  };
  return { handler, seen };
}

/** The next `n` frames the server sends on an h2 stream. */
async function frames(stream: ClientHttp2Stream, reader: FrameReader, n: number): Promise<Frame[]> {
  const got: Frame[] = [];
  const done = deferred();
  const onData = (chunk: Buffer) => {
    got.push(...reader.push(chunk));
    if (got.length >= n) done.resolve();
  };
  stream.on('data', onData);
  stream.once('end', () => done.reject(new Error(`stream ended after ${got.length} frame(s)`)));
  await done.promise;
  stream.off('data', onData);
  return got;
}

describe('WebSocket over h2 (RFC 8441) behind encode — field lesson 3', () => {
  for (const flush of [false, true]) {
    it(
      `a handler that answers 200${flush ? ' and flushes' : ''}, then waits for the client's first message, gets it echoed through`,
      DEADLOCK,
      async () => {
        const ws = wsEchoOverH2({ flush });
        // The shape of field lesson 3: encode in a route of its own, wrapping the routes after it.
        const server = await serve({
          secure: true,
          routes: [{ handle: [encode({ encodings: { gzip: {}, br: {} } })] }, { handle: [ws.handler] }],
        });
        const session = await h2Session(server.url, { ca: certificates().ca });
        // The server's SETTINGS_ENABLE_CONNECT_PROTOCOL is what allows the extended CONNECT.
        expect(await connectProtocolAllowed(session)).toBe(true);
        const stream = session.request(
          {
            ':method': 'CONNECT',
            ':protocol': 'websocket',
            ':scheme': 'https',
            ':path': '/chat',
            ':authority': new URL(server.url).host,
            'sec-websocket-version': '13',
            'accept-encoding': 'gzip, br',
          },
          { endStream: false },
        );
        // The client sends nothing before the 200: were the status held, this would never resolve.
        const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
        expect(head[':status']).toBe(200);
        expect(head['content-encoding']).toBeUndefined();

        const reader = new FrameReader();
        stream.write(encodeFrame('hello, first message', { mask: true }));
        const [echo] = await frames(stream, reader, 1);
        expect(echo).toMatchObject({ fin: true, opcode: OP_TEXT, masked: false });
        expect(echo!.payload.toString()).toBe('hello, first message');

        stream.write(encodeFrame('second', { mask: true }));
        const [again] = await frames(stream, reader, 1);
        expect(again!.payload.toString()).toBe('second');

        stream.end(encodeFrame(Buffer.from([0x03, 0xe8]), { mask: true, opcode: OP_CLOSE }));
        const [close] = await frames(stream, reader, 1);
        expect(close!.opcode).toBe(OP_CLOSE);
        expect(ws.seen).toEqual([{ wrapped: false, canHijack: false }]);
      },
    );
  }
});

describe('WebSocket over HTTP/1.1 Upgrade behind encode', () => {
  /** A Ferry handler that hands the raw connection to `ws` and echoes every message. */
  function wsEcho() {
    const seen: Seen[] = [];
    const wss = new WebSocketServer({ noServer: true });
    defer(() => wss.close());
    const handler: Handler = async (req, res) => {
      seen.push(look(res));
      wss.handleUpgrade(req.raw as IncomingMessage, res.hijack!() as Socket, Buffer.alloc(0), (ws) => {
        ws.on('message', (m, isBinary) => ws.send(m, { binary: isBinary }));
      });
    };
    return { handler, seen };
  }

  /** A `ws` client asking for gzip too, closed after the test. */
  async function client(url: string): Promise<WebSocket> {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/chat`, { headers: { 'accept-encoding': 'gzip' }, perMessageDeflate: false });
    defer(() => ws.terminate());
    ws.on('error', () => {});
    await once(ws, 'open');
    return ws;
  }

  it('a ws client that speaks first gets its message echoed', DEADLOCK, async () => {
    const echo = wsEcho();
    const server = await serve({ routes: [{ handle: [encode({ encodings: { gzip: {} } })] }, { handle: [echo.handler] }] });
    const ws = await client(server.url);
    ws.send('hello over HTTP/1.1');
    const [message] = (await once(ws, 'message')) as [Buffer];
    expect(message.toString()).toBe('hello over HTTP/1.1');
  });

  it('the handler behind encode gets the unwrapped writer, with res.hijack defined', DEADLOCK, async () => {
    const echo = wsEcho();
    const server = await serve({ handler: [encode({ encodings: { gzip: {} } }), echo.handler] });
    await client(server.url);
    expect(echo.seen).toEqual([{ wrapped: false, canHijack: true }]);
  });

  it('an ordinary request to the same handler chain does get the encode writer (the bypass is for upgrades only)', async () => {
    const seen: Seen[] = [];
    const server = await serve({
      handler: [
        encode({ encodings: { gzip: {} } }),
        async (_req, res) => {
          seen.push(look(res));
          res.end('plain');
        },
      ],
    });
    const res = await fetch(server.url, { headers: { 'accept-encoding': 'gzip' } });
    await res.text();
    expect(seen).toEqual([{ wrapped: true, canHijack: false }]);
  });
});

describe('CONNECT over HTTP/1.1 behind encode', () => {
  it('the 200 reaches a client that waits for it before sending, and the tunnel echoes', DEADLOCK, async () => {
    const seen: Seen[] = [];
    const server = await serve({
      handler: [
        encode({ encodings: { gzip: {} } }),
        async (_req, res) => {
          seen.push(look(res));
          res.writeHead(200);
          res.flush();
          const conn = res.hijack!();
          conn.pipe(conn);
        },
      ],
    });
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    defer(() => socket.destroy());
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nAccept-Encoding: gzip\r\n\r\n');
    let received = '';
    const until = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!received.includes(text)) return;
          socket.off('data', onData);
          resolve();
        };
        const onData = (c: Buffer) => {
          received += c.toString('latin1');
          check();
        };
        socket.on('data', onData);
        check();
      });
    await until('\r\n\r\n');
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received.toLowerCase()).not.toContain('content-encoding');
    socket.write('ping through the tunnel');
    await until('ping through the tunnel');
    expect(seen).toEqual([{ wrapped: false, canHijack: true }]);
  });
});
