/**
 * A channel formats each event once and, on a plain HTTP/1.1 response, writes the same chunk
 * Buffer to every subscriber's socket (shared_event.ts) instead of `res.write` per subscriber.
 * What must not change: the bytes on the wire, and a subscriber behind getting every event in
 * order once its socket drains.
 */
import { once } from 'node:events';
import { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { Channel, streamEvents, type EventStream } from '../src/index.js';
import { defer, rawStalledGet, startServer } from './helpers.js';
import { eventually, within } from '@ferry/test-kit/waiting';

/** A server subscribing every request to `channel`; the streams in the order they opened. */
async function channelServer(channel: Channel, options = {}) {
  const streams: EventStream[] = [];
  const server = await startServer({
    handler: streamEvents(
      (stream) => {
        streams.push(stream);
        channel.subscribe(stream);
      },
      { heartbeat: 0, ...options },
    ),
  });
  return { url: server.url, streams };
}

/** A raw HTTP/1.1 subscriber: the bytes after the response head, as they arrive. */
async function rawSubscriber(url: string): Promise<{ socket: Socket; body: () => Buffer }> {
  const u = new URL(url);
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  defer(() => socket.destroy());
  await once(socket, 'connect');
  socket.write(`GET /events HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  let all = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (all = Buffer.concat([all, chunk])));
  const headEnd = () => all.indexOf('\r\n\r\n');
  await eventually(() => headEnd() !== -1, 2000, 'the response head');
  expect(all.subarray(0, headEnd()).toString('latin1')).toMatch(/^HTTP\/1\.1 200 .*\r\n(.*\r\n)*transfer-encoding: chunked/i);
  return { socket, body: () => all.subarray(headEnd() + 4) };
}

describe('fan-out of one event to many subscribers', () => {
  it('puts the same bytes on the wire as a write of the event to each stream: one chunk, its size in hex (UTF-8 bytes)', async () => {
    const channel = new Channel();
    const { url, streams } = await channelServer(channel);
    const [a, b] = [await rawSubscriber(url), await rawSubscriber(url)];
    await eventually(() => streams.length === 2, 2000, 'both streams');
    const data = 'héllo ✓ — two\nlines';
    channel.publish({ event: 'greeting', data });
    // The same event written through the stream itself (res.write), to compare with.
    const text = 'event: greeting\nid: 1\ndata: héllo ✓ — two\ndata: lines\n\n';
    const chunk = Buffer.from(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    await eventually(() => a.body().length >= chunk.length && b.body().length >= chunk.length, 2000, 'the event');
    expect(a.body().equals(chunk)).toBe(true);
    expect(b.body().equals(chunk)).toBe(true);
    streams[0]!.writeRaw(text);
    await eventually(() => a.body().length >= 2 * chunk.length, 2000, 'the written event');
    expect(a.body().equals(Buffer.concat([chunk, chunk]))).toBe(true);
    // The end of the stream is the response's own: the last chunk after the shared ones.
    streams[1]!.close();
    await eventually(() => b.body().toString('latin1').endsWith('0\r\n\r\n'), 2000, 'the last chunk');
    expect(b.body().equals(Buffer.concat([chunk, Buffer.from('0\r\n\r\n')]))).toBe(true);
  });

  it("goes straight to a plain HTTP/1.1 subscriber's socket: no res.write per subscriber (the bytes alone cannot tell)", async () => {
    const channel = new Channel();
    const { url, streams } = await channelServer(channel);
    const [a, b] = [await rawSubscriber(url), await rawSubscriber(url)];
    await eventually(() => streams.length === 2, 2000, 'both streams');
    const writes = vi.spyOn(ServerResponse.prototype, 'write');
    try {
      for (let i = 0; i < 10; i++) channel.publish({ data: `event ${i}` });
      const count = (body: Buffer) => (body.toString('latin1').match(/^data: event \d$/gm) ?? []).length;
      await eventually(() => count(a.body()) === 10 && count(b.body()) === 10, 2000, 'ten events at each');
      expect(writes).not.toHaveBeenCalled();
      // The spy sees the fallback: a stream's own write goes through res.write.
      streams[0]!.writeRaw('data: own\n\n');
      expect(writes).toHaveBeenCalled();
    } finally {
      writes.mockRestore();
    }
  });

  it('a subscriber behind gets every event, in order, once its socket drains (nothing dropped within its bounds)', async () => {
    const channel = new Channel();
    const { url, streams } = await channelServer(channel, { maxQueuedEvents: 100_000, maxQueuedBytes: 256 * 1024 * 1024 });
    const { socket } = await rawStalledGet(url, '/events');
    await eventually(() => streams.length === 1, 2000, 'the stream');
    const stream = streams[0]!;
    const data = 'x'.repeat(16 * 1024);
    let published = 0;
    // The kernel's buffers take some MB first; then the socket pushes back and events queue.
    while (stream.queued < 20) {
      if (++published > 4000) throw new Error('no event queued after 64 MB');
      channel.publish({ data });
    }
    for (let i = 0; i < 10; i++, published++) channel.publish({ data });
    expect(stream.dropped).toBe(0);
    const drained = stream.drained();
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.resume();
    await within(drained, 5000, 'the queue to drain');
    await eventually(() => (text.match(/^id: /gm) ?? []).length === published, 5000, `all ${published} events`);
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    expect(stream.queued).toBe(0);
  });
});
