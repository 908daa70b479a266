/**
 * The relay of an upgraded stream (relay.ts, through reverse_proxy): each side's end is passed on
 * alone, a reset tears the other side down, and a client that stops reading stops the upstream.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { portOf } from '@ferry/test-kit/servers';
import { within } from '@ferry/test-kit/waiting';
import { describe, expect, it } from 'vitest';
import { netUpstream, rawClient, readUntil, startProxy } from './helpers/net.js';

const UPGRADE = 'GET /lines HTTP/1.1\r\nHost: x\r\nUpgrade: lines\r\nConnection: Upgrade\r\n\r\n';
const SWITCHED = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: lines\r\nConnection: Upgrade\r\n\r\n';

/** An upstream that switches to `lines` on the first request head, then hands the socket and what followed the head to `after`. */
function switchingUpstream(after: (socket: Socket, first: Buffer) => void) {
  return netUpstream((socket) => {
    let head = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.write(SWITCHED);
      after(socket, head.subarray(end + 4));
    };
    socket.on('data', onData);
  });
}

/** A raw client through the proxy, switched: the 101 read, and the bytes of the stream read with it. */
async function switchedClient(port: number): Promise<{ sock: Socket; early: Buffer }> {
  const sock = await rawClient(port);
  sock.write(UPGRADE);
  const got = await within(
    readUntil(sock, (b) => b.includes('\r\n\r\n')),
    3000,
    'the 101',
  );
  expect(got.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return { sock, early: got.subarray(got.indexOf('\r\n\r\n') + 4) };
}

/** Everything `sock` reads until its peer's end. */
function untilEnd(sock: Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.once('end', () => resolve(got));
  });
}

describe('an upgraded stream relayed by reverse_proxy', () => {
  it("passes each side's end on alone: a client that ends first still gets what the upstream sends after", async () => {
    const up = await switchingUpstream((socket, first) => {
      // Half-open: the upstream answers after the client's end, then ends too.
      socket.allowHalfOpen = true;
      let said = first.toString('latin1');
      socket.on('data', (c: Buffer) => (said += c.toString('latin1')));
      socket.once('end', () => socket.end(`you said ${said}; goodbye after your end`));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const { sock } = await switchedClient(portOf(proxy));
    const rest = untilEnd(sock);
    sock.end('ping');
    expect(await within(rest, 3000, "the upstream's answer and its end")).toBe('you said ping; goodbye after your end');
  });

  it("closes the client's side when the upstream resets mid-stream", async () => {
    const up = await switchingUpstream((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const { sock } = await switchedClient(portOf(proxy));
    const closed = once(sock, 'close');
    sock.write('ping');
    await within(closed, 3000, "the client's connection to close");
  });

  it('stops reading the upstream while the client does not read, and then delivers every byte', async () => {
    const TOTAL = 64 * 1024 * 1024;
    const block = randomBytes(64 * 1024);
    let handedOff = 0;
    const up = await switchingUpstream((socket) => {
      // Writes as fast as the proxy takes: only its reads make room.
      const more = () => {
        while (handedOff < TOTAL) {
          handedOff += block.length;
          if (!socket.write(block)) return void socket.once('drain', more);
        }
        socket.end();
      };
      more();
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const { sock, early } = await switchedClient(portOf(proxy));
    sock.pause();
    // Wait for the upstream to stall (its hand-off unchanged over 4 polls 50 ms apart), bounded in time.
    let last = -1;
    let still = 0;
    for (let polls = 0; polls < 200 && still < 4 && handedOff < TOTAL; polls++) {
      await new Promise((r) => setTimeout(r, 50));
      still = handedOff === last ? still + 1 : 0;
      last = handedOff;
    }
    // Kernel buffers and the proxy's queue hold a few MiB; without backpressure all 64 MiB go.
    expect(handedOff).toBeLessThan(TOTAL / 2);
    const hash = createHash('sha256').update(early);
    let received = early.length;
    sock.on('data', (c: Buffer) => {
      hash.update(c);
      received += c.length;
    });
    sock.resume();
    await within(once(sock, 'end'), 10_000, 'the whole stream');
    expect(received).toBe(TOTAL);
    const expected = createHash('sha256');
    for (let i = 0; i < TOTAL / block.length; i++) expected.update(block);
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
  });
});
