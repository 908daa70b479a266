/**
 * Event streams (@ferry/sse) behind encode (@ferry/encode): compressed, yet every event, comment
 * and heartbeat reaches the client as it is sent, over HTTP/1.1 and h2.
 */
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createServer } from '@ferry/core';
import { encode } from '@ferry/encode';
import { Channel, streamEvents, type EventStream } from '@ferry/sse';
import { certificates } from '@ferry/test-kit/certs';
import { h1Response, h2Response, h2Session } from '@ferry/test-kit/clients';
import { deferred } from '@ferry/test-kit/lifecycle';
import { serverStarter } from '@ferry/test-kit/servers';
import { parseAll } from '@ferry/test-kit/sse-client';
import { TextCollector } from '@ferry/test-kit/streams';

const startServer = serverStarter(createServer);

/** encode in front of an event stream, as `routes: [{handle:[encode()]}, {handle:[streamEvents()]}]`. */
async function encodedStreamServer(extra: { protocols?: readonly ('h1' | 'h2' | 'h2c')[]; tls?: boolean } = {}) {
  const channel = new Channel();
  const opened = deferred<EventStream>();
  const server = await startServer({
    ...(extra.protocols ? { protocols: extra.protocols } : {}),
    ...(extra.tls ? { tls: certificates().tls } : {}),
    routes: [
      { handle: [encode({ minimumLength: 4096 })] },
      {
        handle: [
          streamEvents(
            (stream) => {
              channel.subscribe(stream);
              opened.resolve(stream);
            },
            { heartbeat: 0 },
          ),
        ],
      },
    ],
  });
  return { server, channel, opened: opened.promise };
}

describe('event streams through encode', () => {
  it('are gzip-compressed, with the head sent before any event and each event decodable on arrival', async () => {
    const { server, channel, opened } = await encodedStreamServer();
    const res = await h1Response(server.url, { headers: { 'accept-encoding': 'gzip' } });
    // The head is out though nothing was written and 4096 bytes (minimum_length) are far away.
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    const body = new TextCollector(res.pipe(createGunzip()));
    await opened;
    for (let i = 1; i <= 5; i++) {
      // Small events, far below minimum_length: each is sync-flushed through the compressor.
      channel.publish({ data: `event number ${i}` });
      await body.contains(`data: event number ${i}\n\n`, 2000);
      expect(parseAll(body.text)).toHaveLength(i);
    }
    expect(parseAll(body.text).map((e) => e.lastEventId)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('comments and heartbeats come through the compressor at once too', async () => {
    const { server, opened } = await encodedStreamServer();
    const res = await h1Response(server.url, { headers: { 'accept-encoding': 'gzip' } });
    const body = new TextCollector(res.pipe(createGunzip()));
    const stream = await opened;
    stream.comment('ping');
    await body.contains(': ping\n\n', 2000);
  });

  it('over h2 too: compressed, and events arrive one by one', async () => {
    const { server, channel, opened } = await encodedStreamServer({ protocols: ['h1', 'h2'], tls: true });
    const session = await h2Session(server.url.replace('http:', 'https:'), { ca: certificates().ca });
    const { stream, headers } = await h2Response(session, '/', { 'accept-encoding': 'gzip' });
    expect(headers['content-encoding']).toBe('gzip');
    const body = new TextCollector(stream.pipe(createGunzip()));
    await opened;
    for (let i = 1; i <= 3; i++) {
      channel.publish({ event: 'h2', data: { i } });
      await body.contains(`data: {"i":${i}}\n\n`, 2000);
    }
  });

  it('a client that does not accept gzip gets the events uncompressed', async () => {
    const { server, channel, opened } = await encodedStreamServer();
    const res = await h1Response(server.url, { headers: { 'accept-encoding': 'identity' } });
    expect(res.headers['content-encoding']).toBeUndefined();
    const body = new TextCollector(res);
    await opened;
    channel.publish({ data: 'plain' });
    await body.contains('id: 1\ndata: plain\n\n');
  });
});
