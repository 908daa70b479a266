import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { capturedLogger, rawClient, readUntil, startProxy, wsClient } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { connectProtocolAllowed, h2Session } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';
import { wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { eventually } from '@ferry/test-kit/waiting';
import { encodeFrame, FrameReader, OP_CLOSE, type Frame } from '@ferry/test-kit/ws-frames';

const wsUrl = (httpUrl: string) => httpUrl.replace(/^http/, 'ws');

/** Sends `text` and expects it back; a socket that closes first fails at once. */
async function echoes(ws: WebSocket, text: string): Promise<void> {
  const reply = new Promise<string>((resolve, reject) => {
    const onClose = (code: number) => reject(new Error(`closed (${code}) before the echo of "${text}"`));
    ws.once('close', onClose);
    ws.once('message', (data: Buffer) => {
      ws.off('close', onClose);
      resolve(data.toString());
    });
  });
  ws.send(text);
  expect(await reply).toBe(text);
}

/** An RFC 8441 WebSocket stream over `session`, its 200 received. */
async function h2WebSocket(session: ClientHttp2Session): Promise<ClientHttp2Stream> {
  await connectProtocolAllowed(session);
  const stream = session.request(
    { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', 'sec-websocket-version': '13' },
    { endStream: false },
  );
  stream.on('error', () => {});
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  expect(headers[':status']).toBe(200);
  return stream;
}

/** The frames read from `stream`, one at a time. */
function frameQueue(stream: ClientHttp2Stream): { next(): Promise<Frame> } {
  const reader = new FrameReader();
  const ready: Frame[] = [];
  const waiting: ((f: Frame) => void)[] = [];
  stream.on('data', (c: Buffer) => {
    for (const f of reader.push(c)) {
      const w = waiting.shift();
      if (w) w(f);
      else ready.push(f);
    }
  });
  return { next: () => (ready.length > 0 ? Promise.resolve(ready.shift()!) : new Promise((r) => waiting.push(r))) };
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}

describe('long-lived streams', () => {
  it('closes a WebSocket after stream_timeout with 1001 on both sides', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], streamTimeout: '300ms' });
    const started = performance.now();
    const ws = await wsClient(wsUrl(proxy.url));
    await echoes(ws, 'still here');
    expect(await closed(ws)).toBe(1001);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    await eventually(() => up.closeCodes.length === 1, 3000);
    expect(up.closeCodes).toEqual([1001]);
  });

  /*
   * KNOWN CORE BUG (packages/core/src/server.ts, FerryServer#close): a hijacked connection leaves
   * the request count at hijack, so close() does not wait for it, and then destroys every socket
   * in #hijacked/#sockets at once — the WebSocket dies with 1006 within milliseconds, before the
   * proxy's stream_close_delay timer can send its 1001 frames. Verified passing once close() waits
   * (within the grace period) for #hijacked to drain before destroying it. Flip to it() then.
   */
  it('keeps an HTTP/1.1 WebSocket open for stream_close_delay on server.close(), then sends 1001 both ways', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], streamCloseDelay: '500ms' });
    const ws = await wsClient(wsUrl(proxy.url));
    await echoes(ws, 'before close');
    const code = closed(ws);
    const stopped = performance.now();
    const stopping = proxy.close({ gracePeriod: '5s' });
    // Inside the delay the stream still works both ways.
    await echoes(ws, 'during the delay');
    expect(await code).toBe(1001);
    expect(performance.now() - stopped).toBeGreaterThanOrEqual(450);
    await eventually(() => up.closeCodes.length === 1, 3000);
    expect(up.closeCodes).toEqual([1001]);
    await stopping;
  });

  it('keeps an h2 WebSocket open for stream_close_delay on server.close(), then sends 1001 both ways', async () => {
    const up = await wsEchoUpstream();
    const { tls, ca } = certificates();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], streamCloseDelay: '500ms' }, { tls, protocols: ['h1', 'h2'] });
    const session = await h2Session(proxy.url, { ca });
    const stream = await h2WebSocket(session);
    const frames = frameQueue(stream);
    stream.write(encodeFrame('before close', { mask: true }));
    expect((await frames.next()).payload.toString()).toBe('before close');
    const stopped = performance.now();
    const stopping = proxy.close({ gracePeriod: '5s' });
    stream.write(encodeFrame('during the delay', { mask: true }));
    expect((await frames.next()).payload.toString()).toBe('during the delay');
    const bye = await frames.next();
    expect(bye.opcode).toBe(OP_CLOSE);
    expect(bye.payload.readUInt16BE(0)).toBe(1001);
    expect(performance.now() - stopped).toBeGreaterThanOrEqual(450);
    await eventually(() => up.closeCodes.length === 1, 3000);
    expect(up.closeCodes).toEqual([1001]);
    await stopping;
  });

  it('does not let the server idle timeout kill a quiet HTTP/1.1 WebSocket', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy(
      { upstreams: [{ dial: up.dial }] },
      { idleTimeout: '300ms', readHeaderTimeout: '300ms', readTimeout: '300ms' },
    );
    const ws = await wsClient(wsUrl(proxy.url));
    await echoes(ws, 'first');
    // The behaviour under test is a timeout that must not fire: stay quiet for over three of them.
    await new Promise((r) => setTimeout(r, 1000));
    await echoes(ws, 'after a quiet second');
  });

  it('does not let the server idle timeout kill a quiet WebSocket over h2', async () => {
    const up = await wsEchoUpstream();
    const { tls, ca } = certificates();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { tls, protocols: ['h1', 'h2'], idleTimeout: '300ms' });
    const session = await h2Session(proxy.url, { ca });
    const stream = await h2WebSocket(session);
    const frames = frameQueue(stream);
    // The behaviour under test is a timeout that must not fire: stay quiet for over three of them.
    await new Promise((r) => setTimeout(r, 1000));
    stream.write(encodeFrame('after a quiet second', { mask: true }));
    expect((await frames.next()).payload.toString()).toBe('after a quiet second');
  });

  it("logs 'stream closed' with the bytes carried each way", async () => {
    const up = await wsEchoUpstream();
    const { logger, lines } = capturedLogger();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { logger });
    const sock = await rawClient(portOf(proxy));
    const key = randomBytes(16).toString('base64');
    sock.write(
      `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await readUntil(sock, (b) => b.includes('\r\n\r\n'));
    const frame = encodeFrame('abc', { mask: true }); // 2 + 4 + 3 bytes
    sock.write(frame);
    await readUntil(sock, (b) => b.length >= 5); // the echo: 2 + 3 bytes
    sock.end();
    await eventually(() => lines.some((l) => l.msg === 'stream closed'), 3000);
    const line = lines.find((l) => l.msg === 'stream closed')!;
    expect(line.bytes_to_upstream).toBe(frame.length);
    expect(line.bytes_from_upstream).toBe(5);
    expect(line.upstream).toBe(up.dial);
    expect(typeof line.duration).toBe('number');
  });
});
