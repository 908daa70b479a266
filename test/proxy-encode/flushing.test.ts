/**
 * reverse_proxy (@ferry/proxy) behind encode (@ferry/encode): a streamed response is compressed
 * and still flushed per write (or per flush_interval), so the client gets each part as the
 * upstream sends it. The upstream writes its next part only after the client has the last one.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createServer } from '@ferry/core';
import { encode } from '@ferry/encode';
import { reverseProxy } from '@ferry/proxy';
import { serverStarter } from '@ferry/test-kit/servers';
import { onChunks } from '@ferry/test-kit/streams';
import { gatedUpstream } from '@ferry/test-kit/upstreams';

const startServer = serverStarter(createServer);

describe('flushing', () => {
  it('flushes a text/event-stream response per write, through encode', async () => {
    const event = (i: number) => `id: ${i}\ndata: event number ${i} ${'x'.repeat(40)}\n\n`;
    const { up, received } = await gatedUpstream(
      { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      5,
      event,
    );
    const proxy = await startServer({
      handler: [encode({ encodings: { gzip: {} }, minimumLength: 0 }), reverseProxy({ upstreams: [{ dial: up.dial }] })],
    });
    const req = httpRequest(proxy.url, { agent: false, headers: { 'accept-encoding': 'gzip' } });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['content-encoding']).toBe('gzip');
    let text = '';
    let next = 0;
    await onChunks(res.pipe(createGunzip()), (t) => {
      text += t;
      while (next < 5 && text.includes(`id: ${next}\n`) && text.endsWith('\n\n')) received[next++]!();
    });
    expect(text).toBe([0, 1, 2, 3, 4].map(event).join(''));
  });

  it('flushes every write of a known-length response with flush_interval -1, through encode', async () => {
    const line = (i: number) => `chunk ${i} ${'y'.repeat(90)}\n`;
    const total = [0, 1, 2, 3, 4].map(line).join('').length;
    const { up, received } = await gatedUpstream({ 'content-type': 'text/plain', 'content-length': total }, 5, line);
    const proxy = await startServer({
      handler: [encode({ encodings: { gzip: {} }, minimumLength: 0 }), reverseProxy({ upstreams: [{ dial: up.dial }], flushInterval: -1 })],
    });
    const req = httpRequest(proxy.url, { agent: false, headers: { 'accept-encoding': 'gzip' } });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['content-encoding']).toBe('gzip');
    let text = '';
    let next = 0;
    await onChunks(res.pipe(createGunzip()), (t) => {
      text += t;
      while (next < 5 && text.endsWith(line(next))) received[next++]!();
    });
    expect(text.length).toBe(total);
  });

  it('flushes a known-length response every flush_interval, through encode', async () => {
    const line = (i: number) => `part ${i} ${'z'.repeat(200)}\n`;
    const total = [0, 1, 2].map(line).join('').length;
    const { up, received } = await gatedUpstream({ 'content-type': 'text/plain', 'content-length': total }, 3, line);
    const proxy = await startServer({
      handler: [
        encode({ encodings: { gzip: {} }, minimumLength: 0 }),
        reverseProxy({ upstreams: [{ dial: up.dial }], flushInterval: '30ms' }),
      ],
    });
    const req = httpRequest(proxy.url, { agent: false, headers: { 'accept-encoding': 'gzip' } });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['content-encoding']).toBe('gzip');
    let text = '';
    let next = 0;
    await onChunks(res.pipe(createGunzip()), (t) => {
      text += t;
      while (next < 3 && text.endsWith(line(next))) received[next++]!();
    });
    expect(text.length).toBe(total);
  });
});
