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

/**
 * Proxies `up` behind gzip `encode` with `proxyOptions` and reads the decompressed response; each
 * time `arrived(text, next)` holds, part `next` is taken as received (so the upstream sends the
 * one after it). Resolves with the whole text.
 */
async function throughEncode(
  up: { dial: string },
  received: (() => void)[],
  proxyOptions: Omit<Parameters<typeof reverseProxy>[0], 'upstreams'>,
  arrived: (text: string, next: number) => boolean,
): Promise<string> {
  const proxy = await startServer({
    handler: [encode({ encodings: { gzip: {} }, minimumLength: 0 }), reverseProxy({ upstreams: [{ dial: up.dial }], ...proxyOptions })],
  });
  const req = httpRequest(proxy.url, { agent: false, headers: { 'accept-encoding': 'gzip' } });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  expect(res.headers['content-encoding']).toBe('gzip');
  let text = '';
  let next = 0;
  await onChunks(res.pipe(createGunzip()), (t) => {
    text += t;
    while (next < received.length && arrived(text, next)) received[next++]!();
  });
  return text;
}

describe('flushing', () => {
  it('flushes a text/event-stream response per write, through encode', async () => {
    const event = (i: number) => `id: ${i}\ndata: event number ${i} ${'x'.repeat(40)}\n\n`;
    const { up, received } = await gatedUpstream(
      { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      5,
      event,
    );
    const text = await throughEncode(up, received, {}, (text, n) => text.includes(`id: ${n}\n`) && text.endsWith('\n\n'));
    expect(text).toBe([0, 1, 2, 3, 4].map(event).join(''));
  });

  it('flushes every write of a known-length response with flush_interval -1, through encode', async () => {
    const line = (i: number) => `chunk ${i} ${'y'.repeat(90)}\n`;
    const total = [0, 1, 2, 3, 4].map(line).join('').length;
    const { up, received } = await gatedUpstream({ 'content-type': 'text/plain', 'content-length': total }, 5, line);
    const text = await throughEncode(up, received, { flushInterval: -1 }, (text, n) => text.endsWith(line(n)));
    expect(text.length).toBe(total);
  });

  it('flushes a known-length response every flush_interval, through encode', async () => {
    const line = (i: number) => `part ${i} ${'z'.repeat(200)}\n`;
    const total = [0, 1, 2].map(line).join('').length;
    const { up, received } = await gatedUpstream({ 'content-type': 'text/plain', 'content-length': total }, 3, line);
    const text = await throughEncode(up, received, { flushInterval: '30ms' }, (text, n) => text.endsWith(line(n)));
    expect(text.length).toBe(total);
  });
});
