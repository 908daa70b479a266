/**
 * A slow client of an event stream (@ferry/sse) behind encode (@ferry/encode): the compressor
 * holds nothing back, so the stream's bounded queue still bounds memory.
 */
import { randomBytes } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createServer } from '@ferry/core';
import { encode } from '@ferry/encode';
import { streamEvents, type EventStream } from '@ferry/sse';
import { h1Response } from '@ferry/test-kit/clients';
import { deferred } from '@ferry/test-kit/lifecycle';
import { retainedBytes } from '@ferry/test-kit/memory';
import { serverStarter } from '@ferry/test-kit/servers';
import { TextCollector } from '@ferry/test-kit/streams';
import { within } from '@ferry/test-kit/waiting';

const startServer = serverStarter(createServer);
const KiB = 1024;
const idsIn = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

describe('backpressure and slow clients', () => {
  it('through encode, a client that does not read gets the same bounded queue: memory stays flat, what is kept arrives', async () => {
    const opened = deferred<EventStream>();
    const server = await startServer({
      routes: [
        { handle: [encode({ minimumLength: 4096 })] },
        { handle: [streamEvents((s) => opened.resolve(s), { heartbeat: 0, slowClient: 'drop-oldest', maxQueuedEvents: 5 })] },
      ],
    });
    const res = await h1Response(server.url, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    res.pause();
    const stream = await opened.promise;
    const before = retainedBytes();
    const total = 1500;
    let peak = before;
    for (let i = 1; i <= total; i++) {
      // Incompressible (random) data, so compression cannot hide the stall: 64 MB in all.
      stream.send({ id: String(i), data: randomBytes(32 * KiB).toString('base64') });
      expect(stream.queued).toBeLessThanOrEqual(5);
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      if (i % 500 === 0) peak = Math.max(peak, retainedBytes());
    }
    const growth = (peak - before) / (1024 * KiB);
    console.log(
      `[sse] through encode, a stalled client: ${stream.dropped} of ${total} events dropped, retained memory growth ${growth.toFixed(1)} MB`,
    );
    expect(growth).toBeLessThan(20);
    expect(stream.dropped).toBeGreaterThan(total / 2);

    const body = new TextCollector(res.pipe(createGunzip()));
    await within(stream.drained(), 5000, 'drained()');
    stream.send({ id: 'end', data: 'end' });
    await body.contains('id: end\n', 5000);
    const ids = idsIn(body.text);
    expect(ids.length).toBe(total - stream.dropped);
    expect(ids.slice(-5)).toEqual([total - 4, total - 3, total - 2, total - 1, total]);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
});
