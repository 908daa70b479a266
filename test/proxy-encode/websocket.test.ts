/**
 * A WebSocket over h2 (RFC 8441) through reverse_proxy (@ferry/proxy) with encode (@ferry/encode)
 * in front: the tunnel opens at once and its bytes pass untouched, whatever the client accepts.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { createServer } from '@ferry/core';
import { encode } from '@ferry/encode';
import { reverseProxy } from '@ferry/proxy';
import { certificates } from '@ferry/test-kit/certs';
import { connectProtocolAllowed, h2Session } from '@ferry/test-kit/clients';
import { serverStarter } from '@ferry/test-kit/servers';
import { wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { encodeFrame, nextFrame, OP_TEXT } from '@ferry/test-kit/ws-frames';

const startServer = serverStarter(createServer);

describe('WebSocket over h2, RFC 8441 (field lesson 3)', () => {
  it('answers 200 at once with encode in front, even when the client asks for compression', async () => {
    const up = await wsEchoUpstream();
    const { tls, ca } = certificates();
    const proxy = await startServer({
      tls,
      protocols: ['h1', 'h2'],
      handler: [encode({ encodings: { gzip: {}, br: {} }, minimumLength: 0 }), reverseProxy({ upstreams: [{ dial: up.dial }] })],
    });
    const session = await h2Session(proxy.url, { ca });
    expect(await connectProtocolAllowed(session)).toBe(true);
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/chat?room=1',
        'sec-websocket-version': '13',
        'accept-encoding': 'gzip, br',
      },
      { endStream: false },
    );
    stream.on('error', () => {});
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
    expect(headers['content-encoding']).toBeUndefined();
  });
});
