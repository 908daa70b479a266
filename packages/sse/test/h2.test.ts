import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Channel, streamEvents, type EventStream } from '../src/index.js';
import { deferred, parseAll, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Response, h2Session } from '@ferry/test-kit/clients';
import { TextCollector } from '@ferry/test-kit/streams';

const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'];

for (const variant of ['h2 (TLS, ALPN)', 'h2c (prior knowledge)'] as const) {
  describe(`event streams over ${variant}`, () => {
    async function open() {
      const opened = deferred<EventStream>();
      const channel = new Channel();
      const tls = variant.startsWith('h2 ');
      const server = await startServer({
        ...(tls ? { protocols: ['h1', 'h2'] as const, tls: certificates().tls } : { protocols: ['h1', 'h2c'] as const }),
        handler: streamEvents(
          (stream, req) => {
            expect(req.protocol).toBe(tls ? 'h2' : 'h2c');
            channel.subscribe(stream);
            opened.resolve(stream);
          },
          { heartbeat: 0 },
        ),
      });
      const session = await h2Session(tls ? server.url.replace('http:', 'https:') : server.url, { ca: certificates().ca });
      const { stream, headers } = await h2Response(session, '/events');
      return { server, session, stream, headers, channel, serverStream: await opened.promise };
    }

    it('sends the event-stream head with no connection-specific header, before any event', async () => {
      const { headers, stream } = await open();
      const body = new TextCollector(stream);
      expect(headers[':status']).toBe(200);
      expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(headers['cache-control']).toBe('no-cache');
      expect(headers['x-accel-buffering']).toBe('no');
      for (const name of CONNECTION_SPECIFIC) expect(headers[name], name).toBeUndefined();
      expect(body.text).toBe('');
    });

    it('delivers events one by one, each before the next is sent', async () => {
      const { stream, channel } = await open();
      const body = new TextCollector(stream);
      for (let i = 1; i <= 5; i++) {
        channel.publish({ event: 'tick', data: `n=${i}` });
        await body.contains(`data: n=${i}\n\n`, 2000);
        // Exactly what was sent so far — the next event has not been written yet.
        expect(parseAll(body.text).map((e) => e.data)).toEqual(Array.from({ length: i }, (_, k) => `n=${k + 1}`));
      }
    });

    it('close() ends the h2 stream cleanly (END_STREAM, no reset)', async () => {
      const { stream, serverStream } = await open();
      const body = new TextCollector(stream);
      serverStream.send({ data: 'last' });
      serverStream.close();
      await once(stream, 'end');
      await once(stream, 'close');
      expect(stream.rstCode).toBe(0);
      expect(body.text).toBe('data: last\n\n');
      expect(await serverStream.closed).toBe('closed');
    });
  });
}
