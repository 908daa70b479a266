/**
 * Field lesson 5: in Fiber, taking over the connection made disconnect detection work but broke
 * the SSE headers, and the normal path sent events but never noticed the client leave. In Ferry
 * both work at once, on the normal path: the headers arrive before any event, and a client that
 * leaves an idle stream (nothing sent, no heartbeat) is noticed within a second.
 */
import { constants as h2c } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { coreModules, loadConfig, Registry, silentLogger, type FerryServer } from '@ferry/core';
import { Registry as MetricsRegistry, type Gauge } from 'prom-client';
import { Channel, sseModule, ssePublishModule, streamEvents, type CloseReason, type EventStream } from '../src/index.js';
import { defer, deferred, startServer } from './helpers.js';
import { certificates, selfSigned } from '@ferry/test-kit/certs';
import { h1Response, h2Response, h2Session } from '@ferry/test-kit/clients';
import { TextCollector } from '@ferry/test-kit/streams';
import { eventually, within } from '@ferry/test-kit/waiting';

type Leave =
  | 'h1 socket destroy'
  | 'h2 stream reset (NGHTTP2_CANCEL)'
  | 'h2 session destroy'
  | 'h2c stream reset (NGHTTP2_CANCEL)'
  | 'h2c session destroy';

/** Opens an idle stream over the given protocol and returns the function that makes the client leave. */
async function openAndLeave(server: FerryServer, how: Leave, path = '/'): Promise<{ headers: Record<string, unknown>; leave: () => void }> {
  if (how === 'h1 socket destroy') {
    const res = await h1Response(server.url + path);
    new TextCollector(res);
    return { headers: res.headers, leave: () => res.socket.destroy() };
  }
  const url = how.startsWith('h2c') ? server.url : server.url.replace('http:', 'https:');
  const session = await h2Session(url, { ca: certificates().ca });
  const { stream, headers } = await h2Response(session, path);
  new TextCollector(stream);
  return { headers, leave: () => (how.endsWith('session destroy') ? session.destroy() : stream.close(h2c.NGHTTP2_CANCEL)) };
}

const LEAVES: Leave[] = [
  'h1 socket destroy',
  'h2 stream reset (NGHTTP2_CANCEL)',
  'h2 session destroy',
  'h2c stream reset (NGHTTP2_CANCEL)',
  'h2c session destroy',
];

function serverOptions(how: Leave) {
  return how.startsWith('h2c')
    ? { protocols: ['h2c'] as const }
    : how.startsWith('h2')
      ? { protocols: ['h1', 'h2'] as const, tls: certificates().tls }
      : {};
}

describe('field lesson 5: SSE headers and disconnect detection, both on the normal path', () => {
  for (const how of LEAVES) {
    it(`${how}: an idle stream notices within a second — signal aborted, closed "client-gone", subscription gone`, async () => {
      const channel = new Channel();
      const opened = deferred<EventStream>();
      const server = await startServer({
        ...serverOptions(how),
        // No heartbeat: nothing at all is written while the client leaves.
        handler: streamEvents(
          (stream) => {
            channel.subscribe(stream);
            opened.resolve(stream);
          },
          { heartbeat: 0 },
        ),
      });
      const { headers, leave } = await openAndLeave(server, how);
      // Headers arrived though no event was sent: the takeover-free path flushes them.
      expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(headers['cache-control']).toBe('no-cache');
      const stream = await opened.promise;
      expect(channel.size).toBe(1);
      const noticed = stream.closed.then((reason) => ({ reason, at: performance.now() }));

      const left = performance.now();
      leave();
      const { reason, at } = await within(noticed, 1000, 'the server to notice the client leave');
      const ms = at - left;
      console.log(`[sse] disconnect noticed over ${how}: ${ms.toFixed(1)} ms`);
      expect(ms).toBeLessThan(1000);
      expect(reason).toBe<CloseReason>('client-gone');
      expect(stream.signal.aborted).toBe(true);
      expect(stream.signal.reason).toBe('client-gone');
      expect(channel.size).toBe(0);
      // Nothing is left to write to: the stream refuses quietly.
      expect(stream.send({ data: 'late' })).toBe(false);
      await eventually(() => server.activeRequests === 0, 1000, 'the request to leave the count');
    });
  }

  it('the config hub: the ferry_sse_subscribers gauge goes back down within a second of each kind of leave', async () => {
    const metrics = new MetricsRegistry();
    const app = await loadConfig(
      {
        apps: {
          http: {
            servers: {
              // One cleartext port for HTTP/1.1 and h2c (prior knowledge), one TLS port for h2.
              plain: {
                listen: ['127.0.0.1:0'],
                protocols: ['h1', 'h2c'],
                routes: [
                  { match: [{ path: ['/sub/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s' }] },
                ],
              },
              secure: {
                listen: ['127.0.0.1:0'],
                protocols: ['h1', 'h2'],
                tls_connection_policies: [{}],
                routes: [
                  { match: [{ path: ['/sub/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s' }] },
                ],
              },
            },
          },
          tls: { certificates: { load_pem: [{ certificate: selfSigned().cert.toString(), key: selfSigned().key.toString() }] } },
        },
      },
      { registry: new Registry([...coreModules, sseModule, ssePublishModule]), logger: silentLogger(), metrics },
    );
    await app.start();
    defer(() => app.stop(0));
    const gauge = async (topic: string) => {
      const g = metrics.getSingleMetric('ferry_sse_subscribers') as Gauge<'topic'> | undefined;
      const values = g ? (await g.get()).values : [];
      return values.find((v) => v.labels.topic === topic)?.value;
    };
    for (const how of LEAVES) {
      const server = how.startsWith('h2 ') ? app.server('secure')! : app.server('plain')!;
      const topic = how.replace(/[^a-z0-9]+/gi, '-');
      const { leave } = await openAndLeave(server, how, `/sub/${topic}`);
      // The subscription is made before the headers go out.
      expect(await gauge(topic)).toBe(1);
      const left = performance.now();
      leave();
      // No event tells the client side when a server-side gauge moves: poll it, with a deadline.
      await eventually(async () => (await gauge(topic)) === 0, 1000, `gauge for ${topic} back to 0`);
      console.log(`[sse] hub gauge back to 0 over ${how}: ${(performance.now() - left).toFixed(1)} ms`);
    }
  });
});
