import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry as MetricsRegistry, type Counter } from 'prom-client';
import { Hub, streamEvents, type CloseReason, type EventStream, type EventStreamOptions } from '../src/index.js';
import { deferred, rawStalledGet, startServer } from './helpers.js';
import { h2Response, h2Session } from '@ferry/test-kit/clients';
import { TextCollector } from '@ferry/test-kit/streams';
import { within } from '@ferry/test-kit/waiting';

const KiB = 1024;

/** A server with one event stream, opened by a raw client that reads the head and then nothing. */
async function stalled(options: EventStreamOptions) {
  const opened = deferred<EventStream>();
  const server = await startServer({ handler: streamEvents((s) => opened.resolve(s), { heartbeat: 0, ...options }) });
  const { socket, head } = await rawStalledGet(server.url, '/');
  expect(head).toMatch(/^HTTP\/1\.1 200 /);
  return { server, socket, stream: await opened.promise };
}

/**
 * Sends bursts of `size`-byte events (ids 1, 2, …) until the client is really behind: a first
 * `false` often means only that Node corked this tick's writes, which the kernel then takes whole.
 * Behind = `drained()` still pending after the socket had a few turns of the event loop, with at
 * least one event in the stream's queue.
 */
async function fillUntilBehind(
  stream: EventStream,
  size: number,
  send = (i: number, data: string) => void stream.send({ id: String(i), data }),
): Promise<number> {
  const data = 'x'.repeat(size);
  let i = 0;
  while (i < 5000) {
    for (let k = 0; k < 16; k++) send(++i, data);
    let drained = false;
    void stream.drained().then(() => (drained = true));
    for (let t = 0; t < 5; t++) await new Promise((r) => setImmediate(r));
    if (!drained) {
      // Behind — but the write that filled the buffer may have been the batch's last, leaving the
      // stream's own queue empty (with large kernel buffers): one more event queues behind it.
      if (stream.queued === 0) send(++i, data);
      return i;
    }
  }
  throw new Error(`the client never fell behind after ${i} events of ${size} bytes`);
}

/** Reads everything the socket delivers from now on. */
function drainSocket(socket: Socket): { text: () => string } {
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (s: string) => (text += s));
  socket.resume();
  return { text: () => text };
}

const idsIn = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

describe('backpressure and slow clients', () => {
  it('send() returns false under backpressure, and drained() resolves once the client catches up', async () => {
    const { socket, stream } = await stalled({ maxQueuedEvents: 100_000, maxQueuedBytes: 512 * 1024 * 1024 });
    let sent = await fillUntilBehind(stream, 64 * KiB);
    // Behind now: further events queue (within bounds) and keep saying so. 8 MB more, so the
    // client stays behind whatever else the kernel's buffers may still take.
    const data = 'w'.repeat(64 * KiB);
    for (let i = 0; i < 128; i++) {
      const queuedBefore = stream.queued;
      expect(stream.send({ id: String(++sent), data })).toBe(false);
      expect(stream.queued).toBe(queuedBefore + 1);
    }
    let drained = false;
    const whenDrained = stream.drained().then(() => (drained = true));
    for (let t = 0; t < 5; t++) await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);

    const reader = drainSocket(socket);
    await within(whenDrained, 5000, 'drained()');
    expect(stream.queued).toBe(0);
    expect(stream.dropped).toBe(0);
    // Caught up: the next event goes straight through again.
    const last = sent + 1;
    expect(stream.send({ id: String(last), data: 'caught up' })).toBe(true);
    // The response's last chunk so far (HTTP/1.1 chunked framing): only the tail is looked at,
    // since many MB went by.
    await within(
      (async () => {
        while (!reader.text().endsWith('data: caught up\n\n\r\n')) await once(socket, 'data');
      })(),
      5000,
      'the last event',
    );
    expect(idsIn(reader.text()).at(-1)).toBe(last);
  });

  it('drop-oldest: a client that does not read loses the oldest queued events, the queue stays bounded, the newest arrive', async () => {
    const dropped: string[] = [];
    const { socket, stream } = await stalled({ slowClient: 'drop-oldest', maxQueuedEvents: 5, onDrop: (ev) => dropped.push(ev) });
    const total = 400;
    const data = 'y'.repeat(16 * KiB);
    let maxQueued = 0;
    for (let i = 1; i <= total; i++) {
      stream.send({ id: String(i), data });
      maxQueued = Math.max(maxQueued, stream.queued);
    }
    // Bounded: never more than maxQueuedEvents held, whatever was sent.
    expect(maxQueued).toBe(5);
    expect(stream.dropped).toBeGreaterThan(0);
    expect(dropped).toHaveLength(stream.dropped);
    expect(stream.isClosed).toBe(false);

    const reader = drainSocket(socket);
    await within(stream.drained(), 5000, 'drained()');
    stream.close();
    // The connection is kept alive: the end of the response is its last chunk.
    await within(
      (async () => {
        while (!reader.text().endsWith('\r\n0\r\n\r\n')) await once(socket, 'data');
      })(),
      5000,
      'the end of the response',
    );
    const ids = idsIn(reader.text());
    // In order, no duplicates, the newest kept, and exactly what was not dropped.
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.at(-1)).toBe(total);
    expect(ids.slice(-5)).toEqual([total - 4, total - 3, total - 2, total - 1, total]);
    expect(ids.length).toBe(total - stream.dropped);
    expect(dropped.map((ev) => Number(/^id: (\d+)/.exec(ev)![1]))).toEqual(
      Array.from({ length: total }, (_, i) => i + 1).filter((n) => !ids.includes(n)),
    );
  });

  it('drop-oldest also bounds the queued bytes (maxQueuedBytes)', async () => {
    const { stream } = await stalled({ maxQueuedEvents: 1000, maxQueuedBytes: 100 * KiB });
    await fillUntilBehind(stream, 16 * KiB);
    const before = stream.dropped;
    for (let i = 0; i < 200; i++) {
      stream.send({ data: 'z'.repeat(16 * KiB) });
      // 100 KiB / ~16 KiB per event.
      expect(stream.queued).toBeLessThanOrEqual(6);
    }
    expect(stream.dropped - before).toBeGreaterThanOrEqual(194);
  });

  it('disconnect: a slow client is cut off — closed settles "slow-client", the connection is reset', async () => {
    const { socket, stream } = await stalled({ slowClient: 'disconnect', maxQueuedEvents: 3 });
    const gone = once(socket, 'close');
    // One event past the backpressure point, then the queue (3), then one more: cut off.
    const data = 'x'.repeat(64 * KiB);
    let sent = 1;
    while (stream.send({ data })) sent++;
    for (let i = 1; i <= 3; i++) expect(stream.send({ data: `queued ${i}` })).toBe(false);
    expect(stream.isClosed).toBe(false);
    expect(stream.send({ data: 'one too many' })).toBe(false);
    expect(await stream.closed).toBe<CloseReason>('slow-client');
    expect(stream.signal.aborted).toBe(true);
    expect(stream.queued).toBe(0);
    // The client is not left hanging: its connection goes away (a cut, not a clean end).
    socket.resume();
    await within(gone, 2000, 'the client connection to close');
    expect(sent).toBeGreaterThan(0);
  });

  it("heartbeats never take a queued event's place behind a slow client", async () => {
    const { stream } = await stalled({ heartbeat: 10, slowClient: 'drop-oldest', maxQueuedEvents: 3 });
    await fillUntilBehind(stream, 64 * KiB);
    expect(stream.queued).toBeGreaterThan(0);
    const dropped = stream.dropped;
    // Ten heartbeat intervals pass with no event sent. (Nothing happening has no event to await:
    // this one wait is the test.) The kernel may still take an event or two off the queue meanwhile;
    // what must not happen is a heartbeat queued behind them, pushing an event out.
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.dropped).toBe(dropped);
    expect(stream.queued).toBeLessThanOrEqual(3);
  });

  it('drained() resolves when the stream ends while waiting for the client', async () => {
    const { socket, stream } = await stalled({});
    await fillUntilBehind(stream, 64 * KiB);
    const waiting = stream.drained();
    socket.destroy();
    expect(await within(stream.closed, 1000, 'closed')).toBe<CloseReason>('client-gone');
    await within(waiting, 1000, 'the pending drained()');
    // And asked afterwards, too: nothing is left to wait for.
    await within(stream.drained(), 1000, 'drained() after close');
  });

  it('a large event pushing several queued ones out is counted, not thrown (hub metrics)', async () => {
    const metrics = new MetricsRegistry();
    const hub = new Hub({ metrics });
    const opened = deferred<EventStream>();
    const server = await startServer({
      handler: streamEvents(
        (s) => {
          hub.topic('big').subscribe(s);
          opened.resolve(s);
        },
        { heartbeat: 0, maxQueuedBytes: 200 * KiB },
      ),
    });
    await rawStalledGet(server.url, '/');
    const stream = await opened.promise;
    const channel = hub.topic('big');
    let published = 0;
    await fillUntilBehind(stream, 64 * KiB, (_, data) => {
      channel.publish({ data });
      published++;
    });
    // The queue full of those (three fit in 200 KiB), whatever the kernel took before.
    while (stream.queued < 3) {
      void channel.publish({ data: 'x'.repeat(64 * KiB) });
      published++;
    }
    for (let i = 0; i < 4; i++, published++) channel.publish({ data: `small ${i}` });
    const before = stream.dropped;
    // 150 KiB: the queue's byte bound forces out every small one queued before it.
    expect(() => channel.publish({ data: 'b'.repeat(150 * KiB) })).not.toThrow();
    published++;
    expect(stream.dropped - before).toBeGreaterThan(1);
    const value = async (name: string) =>
      (await (metrics.getSingleMetric(name) as Counter<'topic'>).get()).values.find((v) => v.labels.topic === 'big')?.value ?? 0;
    expect(await value('ferry_sse_events_published_total')).toBe(published);
    expect(await value('ferry_sse_events_delivered_total')).toBe(published);
    expect(await value('ferry_sse_events_dropped_total')).toBe(stream.dropped);
  });

  it('over h2, flow control is the backpressure: a paused stream gets the bounded queue, and drained() follows its reading', async () => {
    const opened = deferred<EventStream>();
    const server = await startServer({
      protocols: ['h2c'],
      handler: streamEvents((s) => opened.resolve(s), { heartbeat: 0, slowClient: 'drop-oldest', maxQueuedEvents: 5 }),
    });
    const session = await h2Session(server.url);
    const { stream: h2 } = await h2Response(session, '/');
    h2.pause();
    const stream = await opened.promise;
    const total = 300;
    const data = 'h'.repeat(16 * KiB);
    let refused = 0;
    for (let i = 1; i <= total; i++) {
      if (!stream.send({ id: String(i), data })) refused++;
      expect(stream.queued).toBeLessThanOrEqual(5);
    }
    // 4.8 MB against a 64 KiB stream window: nearly all pushed back, the oldest dropped.
    expect(refused).toBeGreaterThan(total / 2);
    expect(stream.dropped).toBeGreaterThan(total / 2);
    const body = new TextCollector(h2);
    h2.resume();
    await within(stream.drained(), 5000, 'drained()');
    stream.close();
    await once(h2, 'end');
    const ids = idsIn(body.text);
    expect(ids.length).toBe(total - stream.dropped);
    expect(ids.at(-1)).toBe(total);
  });
});
