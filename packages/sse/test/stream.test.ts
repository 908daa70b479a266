import { once } from 'node:events';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FerryRequest, ResponseWriter } from '@ferry/core';
import { eventStream, streamEvents, type CloseReason, type EventStream, type EventStreamOptions } from '../src/index.js';
import { deferred, parseAll, startServer } from './helpers.js';
import { h1Response } from '@ferry/test-kit/clients';
import { TextCollector } from '@ferry/test-kit/streams';
import { eventually, within } from '@ferry/test-kit/waiting';

/** A server whose every request becomes an event stream the test drives; `next()` gives the next one opened. */
async function streamServer(options: EventStreamOptions = { heartbeat: 0 }) {
  const opened: EventStream[] = [];
  let wake: (() => void) | undefined;
  const server = await startServer({
    handler: streamEvents((stream) => {
      opened.push(stream);
      wake?.();
    }, options),
  });
  const next = async (): Promise<EventStream> => {
    while (opened.length === 0) await new Promise<void>((r) => (wake = r));
    return opened.shift()!;
  };
  return { server, next };
}

describe('eventStream / streamEvents', () => {
  it('sends 200, text/event-stream, no-cache and X-Accel-Buffering: no before any event', async () => {
    const { server, next } = await streamServer();
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const stream = await next();
    // The client has the whole head while the handler has not sent a single byte of body.
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.headers['content-length']).toBeUndefined();
    expect(body.text).toBe('');
    stream.send({ data: 'first' });
    await body.contains('data: first\n\n');
    expect(body.text).toBe('data: first\n\n');
  });

  it('writes spec-correct events: multi-line data split on CRLF, CR and LF; objects as JSON', async () => {
    const { server, next } = await streamServer();
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const stream = await next();
    expect(stream.send({ event: 'multi', id: '7', retry: 2500, data: 'one\ntwo\r\nthree\rfour' })).toBe(true);
    stream.send({ data: { a: 1, list: [1, 2], text: 'line\nbreak' } });
    stream.send({ data: 'trailing\n' });
    stream.send({ data: '' });
    stream.send({ id: '8', data: 'unicode ✓ 🚢' });
    await body.contains('unicode');
    expect(body.text).toBe(
      'event: multi\nid: 7\nretry: 2500\ndata: one\ndata: two\ndata: three\ndata: four\n\n' +
        'data: {"a":1,"list":[1,2],"text":"line\\nbreak"}\n\n' +
        'data: trailing\ndata: \n\n' +
        'data: \n\n' +
        'id: 8\ndata: unicode ✓ 🚢\n\n',
    );
    // And an EventSource reads back exactly what was sent.
    expect(parseAll(body.text)).toEqual([
      { type: 'multi', data: 'one\ntwo\nthree\nfour', lastEventId: '7' },
      { type: 'message', data: '{"a":1,"list":[1,2],"text":"line\\nbreak"}', lastEventId: '7' },
      { type: 'message', data: 'trailing\n', lastEventId: '7' },
      { type: 'message', data: '', lastEventId: '7' },
      { type: 'message', data: 'unicode ✓ 🚢', lastEventId: '8' },
    ]);
  });

  it('refuses an event or id with CR or LF (and an id with NUL) with a TypeError, writing nothing', async () => {
    const { server, next } = await streamServer();
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const stream = await next();
    expect(() => stream.send({ event: 'a\nb', data: 'x' })).toThrow(TypeError);
    expect(() => stream.send({ event: 'a\rb', data: 'x' })).toThrow(TypeError);
    expect(() => stream.send({ id: '1\n', data: 'x' })).toThrow(TypeError);
    expect(() => stream.send({ id: '1\r\ndata: injected', data: 'x' })).toThrow(TypeError);
    expect(() => stream.send({ id: 'a\0b', data: 'x' })).toThrow(TypeError);
    expect(() => stream.send({ retry: -1 })).toThrow(TypeError);
    stream.send({ event: 'ok', data: 'after' });
    await body.contains('data: after\n\n');
    expect(body.text).toBe('event: ok\ndata: after\n\n');
  });

  it('comment() writes comment lines that clients ignore', async () => {
    const { server, next } = await streamServer();
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const stream = await next();
    stream.comment();
    stream.comment('hello');
    stream.comment('two\nlines');
    stream.send({ data: 'x' });
    await body.contains('data: x\n\n');
    expect(body.text).toBe(':\n\n: hello\n\n: two\n: lines\n\ndata: x\n\n');
    expect(parseAll(body.text)).toEqual([{ type: 'message', data: 'x', lastEventId: '' }]);
  });

  it('sends a heartbeat comment at the configured interval while the stream is idle', async () => {
    const { server } = await streamServer({ heartbeat: '100ms' });
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const arrivals: number[] = [];
    res.on('data', () => arrivals.push(performance.now()));
    const start = performance.now();
    await body.until((t) => (t.match(/^:\n\n/gm) ?? []).length >= 4, 3000, '4 heartbeats');
    expect(body.text).toBe(':\n\n'.repeat(4));
    const gaps = arrivals.slice(1, 4).map((t, i) => t - arrivals[i]!);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(60);
      expect(gap).toBeLessThan(400);
    }
    expect(arrivals[0]! - start).toBeGreaterThan(60);
  });

  it('sends the retry hint first when asked', async () => {
    const { server, next } = await streamServer({ heartbeat: 0, retry: 1500 });
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    (await next()).send({ data: 'x' });
    await body.contains('data: x');
    expect(body.text).toBe('retry: 1500\n\ndata: x\n\n');
  });

  it('close() ends the response cleanly and settles closed with "closed"', async () => {
    const { server, next } = await streamServer({ heartbeat: 50 });
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const stream = await next();
    stream.send({ data: 'bye' });
    stream.close();
    expect(stream.isClosed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
    expect(await stream.closed).toBe<CloseReason>('closed');
    await once(res, 'end');
    // A complete chunked body: the client can tell a finished stream from a cut one.
    expect(res.complete).toBe(true);
    expect(body.text).toBe('data: bye\n\n');
    expect(stream.send({ data: 'late' })).toBe(false);
    expect(stream.comment()).toBe(false);
    await eventually(() => server.activeRequests === 0, 1000, 'the request to finish');
  });

  it('a handler that throws after opening the stream cuts the response (closed: "error"), never ends it cleanly', async () => {
    const made = deferred<EventStream>();
    const server = await startServer({
      handler: streamEvents(
        (stream) => {
          made.resolve(stream);
          stream.send({ data: 'partial' });
          throw new Error('boom');
        },
        { heartbeat: 0 },
      ),
    });
    const res = await h1Response(server.url);
    const body = new TextCollector(res);
    const stream = await made.promise;
    expect(await stream.closed).toBe<CloseReason>('error');
    await body.until(() => body.ended || body.error !== undefined || res.destroyed, 2000, 'the response to stop');
    // An EventSource reconnects either way, but nothing may take a failed stream for a finished one.
    expect(res.complete).toBe(false);
  });

  it('a stream made after the client already left settles at once with "client-gone"', async () => {
    const made = deferred<EventStream>();
    const arrived = deferred();
    const server = await startServer({
      handler: async (req: FerryRequest, res: ResponseWriter) => {
        arrived.resolve();
        // An async step (auth, a lookup) during which the client leaves.
        if (!req.signal.aborted) await once(req.signal, 'abort');
        const stream = eventStream(req, res, { heartbeat: 20 });
        made.resolve(stream);
        await stream.closed;
      },
    });
    const req = request(server.url, { agent: false });
    req.on('error', () => {});
    req.end();
    await arrived.promise;
    req.destroy();
    const stream = await within(made.promise, 2000, 'the handler to see the client leave');
    // An already-aborted signal never fires 'abort' again: the stream must look, not listen.
    expect(await within(stream.closed, 1000, 'stream.closed')).toBe<CloseReason>('client-gone');
    expect(stream.signal.aborted).toBe(true);
    expect(stream.send({ data: 'x' })).toBe(false);
  });

  it('an empty Last-Event-ID (header or query) means no event seen yet', async () => {
    const { server, next } = await streamServer();
    await h1Response(server.url, { headers: { 'last-event-id': '' } });
    expect((await next()).lastEventId).toBeUndefined();
    await h1Response(`${server.url}/?lastEventId=`);
    expect((await next()).lastEventId).toBeUndefined();
    await h1Response(server.url, { headers: { 'last-event-id': '41' } });
    expect((await next()).lastEventId).toBe('41');
    await h1Response(`${server.url}/?lastEventId=42`);
    expect((await next()).lastEventId).toBe('42');
  });
});
