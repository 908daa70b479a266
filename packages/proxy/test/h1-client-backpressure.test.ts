/**
 * Backpressure from a slow client reaches the upstream through the HTTP/1.1 upstream client: while
 * the client reads nothing, the proxy stops reading its upstream connection (the upstream's own
 * write buffer fills and stays full), and once the client reads, every byte arrives in order.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ReadBuffer } from '../src/transport/read_buffers.js';
import { startProxy } from './helpers/net.js';
import { rawUpstream } from './helpers/raw-h1.js';
import { h1Response } from '@ferry/test-kit/clients';
import { collect } from '@ferry/test-kit/streams';
import { eventually } from '@ferry/test-kit/waiting';

const SIZE = 20 * 1024 * 1024;

describe('a 20 MiB response to a client that does not read', () => {
  it('stops the proxy reading the upstream, then arrives byte-exact once the client reads', async () => {
    const body = randomBytes(SIZE);
    let upstreamSocket: Socket | undefined;
    const up = await rawUpstream((_req, socket) => {
      upstreamSocket = socket;
      // Written in 64 KiB pieces without waiting: the pieces the kernel has not taken stay in
      // this socket's buffer (writableLength), so it measures what the proxy has not read.
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${SIZE}\r\n\r\n`);
      for (let at = 0; at < SIZE; at += 64 * 1024) socket.write(body.subarray(at, at + 64 * 1024));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const res = await h1Response(proxy.url);
    res.pause();
    expect(res.statusCode).toBe(200);
    // Stalled: megabytes still queued at the upstream, not moving for 20 checks (5 ms apart) in a row.
    let last = -1;
    let still = 0;
    await eventually(
      () => {
        const queued = upstreamSocket?.writableLength ?? 0;
        still = queued === last && queued > 0 ? still + 1 : 0;
        last = queued;
        return still >= 20;
      },
      5000,
      () => `the upstream's write buffer to stop draining (now ${upstreamSocket?.writableLength} bytes queued)`,
    );
    // ~16 of the 20 MiB measured here: the kernel's socket buffers and the proxy's hold the rest.
    expect(upstreamSocket!.writableLength).toBeGreaterThan(SIZE / 2);
    expect(upstreamSocket!.writableNeedDrain).toBe(true);
    // The proxy holds back at most two reads past what the kernel took before it pauses
    // (respond.ts MAX_QUEUED): three read buffers lent to the client's socket, one being read into.
    expect(ReadBuffer.inUse).toBeGreaterThan(0);
    expect(ReadBuffer.inUse).toBeLessThanOrEqual(4);
    const got = await collect(res);
    expect(got.length).toBe(SIZE);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(upstreamSocket!.writableLength).toBe(0);
  });
});
