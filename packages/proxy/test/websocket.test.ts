import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { acceptFor, defer, netUpstream, rawClient, readUntil, startProxy, wsClient } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { freePort } from '@ferry/test-kit/ports';
import { portOf } from '@ferry/test-kit/servers';
import { wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { encodeFrame, FrameReader, type Frame } from '@ferry/test-kit/ws-frames';

/** Splits a raw 101 answer into its head and the frames that followed it. */
function parseUpgrade(buf: Buffer): { head: string; frames: Frame[] } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  return { head: buf.subarray(0, end).toString('latin1'), frames: new FrameReader().push(buf.subarray(end + 4)) };
}

function handshake(key: string, path = '/chat'): string {
  return `GET ${path} HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

describe('WebSocket over HTTP/1.1 Upgrade (field lesson 4)', () => {
  it('delivers a first frame sent in the same write as the Upgrade request', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const key = randomBytes(16).toString('base64');
    const sock = await rawClient(portOf(proxy));
    sock.write(Buffer.concat([Buffer.from(handshake(key)), encodeFrame('first frame, same write', { mask: true })]));
    const buf = await readUntil(sock, (b) => (parseUpgrade(b)?.frames.length ?? 0) >= 1);
    const { head, frames } = parseUpgrade(buf)!;
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head.toLowerCase()).toContain(`sec-websocket-accept: ${acceptFor(key).toLowerCase()}`);
    expect(frames[0]!.payload.toString()).toBe('first frame, same write');
    expect(frames[0]!.masked).toBe(false);
    expect(up.handshakes[0]!.url).toBe('/chat');
  });

  it('delivers bytes the upstream sent right after its 101, in the same write', async () => {
    const up = await netUpstream((socket) => {
      let head = '';
      socket.on('data', (c: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
        socket.write(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
            ),
            encodeFrame('hello before you spoke', { mask: false }),
          ]),
        );
      });
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    // Not wsClient(): the message may arrive in the same read as the 101, before 'open' is awaited.
    const ws = new WebSocket(proxy.url.replace('http', 'ws'));
    ws.on('error', () => {});
    defer(() => ws.terminate());
    const [data] = (await once(ws, 'message')) as [Buffer];
    expect(data.toString()).toBe('hello before you spoke');
  });

  it('returns 1,000 random binary messages (1 B to 64 KiB) byte for byte and in order', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const ws: WebSocket = await wsClient(`${proxy.url.replace('http', 'ws')}/soak`);
    const sent = Array.from({ length: 1000 }, () => randomBytes(randomInt(1, 64 * 1024 + 1)));
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer, isBinary) => {
        expect(isBinary).toBe(true);
        received.push(data);
        if (received.length === sent.length) resolve();
      }),
    );
    const started = performance.now();
    for (const m of sent) ws.send(m, { binary: true });
    await done;
    const ms = performance.now() - started;
    const bytes = sent.reduce((n, m) => n + m.length, 0);
    console.info(`WebSocket soak: 1000 messages, ${(bytes / 1048576).toFixed(1)} MiB each way, echoed in ${ms.toFixed(0)} ms`);
    for (let i = 0; i < sent.length; i++) if (!received[i]!.equals(sent[i]!)) throw new Error(`message ${i} differs`);
  });

  it('moves a WebSocket upgrade past an upstream nobody listens on', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${await freePort()}` }, { dial: up.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 1, tryInterval: '0s' },
    });
    const ws = await wsClient(proxy.url.replace('http', 'ws'));
    const reply = once(ws, 'message') as Promise<[Buffer]>;
    ws.send('after a retry');
    expect((await reply)[0].toString()).toBe('after a retry');
  });

  it('forwards an ordinary answer to an Upgrade request the upstream refuses', async () => {
    const up = await netUpstream((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope'),
      );
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const r = await h1Get(proxy.url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        'sec-websocket-version': '13',
      },
    });
    expect(r.status).toBe(403);
    expect(r.body.toString()).toBe('nope');
  });
});
