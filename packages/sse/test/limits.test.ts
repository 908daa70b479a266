import { request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { coreModules, loadConfig, Registry, silentLogger } from '@ferry/core';
import { addressKey } from '../src/client_limits.js';
import { sseModule, ssePublishModule } from '../src/index.js';
import { defer, EventSourceClient } from './helpers.js';
import { h2Response, h2Session } from '@ferry/test-kit/clients';
import { eventually, within } from '@ferry/test-kit/waiting';

const registry = () => new Registry([...coreModules, sseModule, ssePublishModule]);

/** A hub over h1 and h2c: `/sub/<topic>` with `limits` on the sse handler, `/pub/<topic>`. */
async function startHub(limits: Record<string, number> = {}): Promise<string> {
  const routes = [
    { match: [{ path: ['/sub/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s', ...limits }] },
    { match: [{ path: ['/pub/*'] }], handle: [{ handler: 'sse_publish', topic: '{http.request.uri.path.1}' }] },
  ];
  const config = { apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], protocols: ['h1', 'h2c'], routes } } } } };
  const app = await loadConfig(config, { registry: registry(), logger: silentLogger() });
  await app.start();
  defer(() => app.stop(0));
  return app.servers[0]!.url;
}

async function publish(url: string, body: string): Promise<number> {
  const res = await request(url, { method: 'POST', body });
  await res.body.dump();
  return res.statusCode;
}

/** A GET over HTTP/1.1 from `localAddress` (any 127/8 address reaches a 127.0.0.1 listener on Linux); resolves at the head. */
function getFrom(localAddress: string, url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, localAddress, headers: { accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    defer(() => req.destroy());
    req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of res) s += chunk;
  return s;
}

describe('subscription limits of the hub', () => {
  it('an h2 connection past max_subscriptions_per_connection gets 429 with a clear body; another connection does not', async () => {
    const url = await startHub({ max_subscriptions_per_connection: 3 });
    const session = await h2Session(url);
    for (let i = 0; i < 3; i++) expect((await h2Response(session, `/sub/c${i}`)).headers[':status']).toBe(200);

    const over = await h2Response(session, '/sub/c3');
    expect(over.headers[':status']).toBe(429);
    let body = '';
    for await (const chunk of over.stream) body += chunk;
    expect(body).toBe('too many event streams on this connection (limit 3): close one before opening another\n');

    const other = await h2Session(url);
    expect((await h2Response(other, '/sub/c3')).headers[':status']).toBe(200);
  });

  it('a subscription that ends gives its place back to its connection', async () => {
    const url = await startHub({ max_subscriptions_per_connection: 2 });
    const session = await h2Session(url);
    const first = await h2Response(session, '/sub/a');
    expect(first.headers[':status']).toBe(200);
    expect((await h2Response(session, '/sub/b')).headers[':status']).toBe(200);
    expect((await h2Response(session, '/sub/c')).headers[':status']).toBe(429);

    first.stream.close(); // RST_STREAM (CANCEL), as a browser closing one EventSource
    // The server notices within milliseconds, but nothing tells the client: ask until it is let in.
    await eventually(
      async () => Number((await h2Response(session, '/sub/c')).headers[':status']) === 200,
      2000,
      'a place freed on the connection',
    );
  });

  it('an address past max_subscriptions_per_address gets 429 on any connection; another address and a freed place get in', async () => {
    const url = await startHub({ max_subscriptions_per_address: 2 });
    const a = new EventSourceClient(`${url}/sub/x`);
    const b = new EventSourceClient(`${url}/sub/y`);
    expect((await a.connect()).statusCode).toBe(200);
    expect((await b.connect()).statusCode).toBe(200);

    const refused = await getFrom('127.0.0.1', `${url}/sub/z`);
    expect(refused.statusCode).toBe(429);
    expect(await text(refused)).toBe('too many event streams from this address (limit 2): close one before opening another\n');
    expect((await getFrom('127.0.0.2', `${url}/sub/z`)).statusCode).toBe(200);

    await a.disconnect();
    await eventually(
      async () => {
        const res = await getFrom('127.0.0.1', `${url}/sub/z`);
        return res.statusCode === 200;
      },
      2000,
      'a place freed for the address',
    );
  });

  it('a connection opening 10,000 subscriptions to distinct topics gets 429 past its limit, and a new client still subscribes to a new topic and gets its events', async () => {
    const url = await startHub();
    const hostile = await h2Session(url);
    const statuses = new Map<number, number>();
    // In batches: with the 100 it holds, never more streams open at once than h2's usual limit (250).
    for (let from = 0; from < 10_000; from += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, i) => h2Response(hostile, `/sub/hostile-${from + i}`)));
      for (const { headers } of batch) statuses.set(Number(headers[':status']), (statuses.get(Number(headers[':status'])) ?? 0) + 1);
    }
    // The default limit per connection: 100 held, the rest refused — no topic was made for them.
    expect(Object.fromEntries(statuses)).toEqual({ 200: 100, 429: 9_900 });

    const fresh = new EventSourceClient(`${url}/sub/fresh`);
    expect((await fresh.connect()).statusCode).toBe(200);
    expect(await publish(`${url}/pub/fresh`, 'still served')).toBe(202);
    expect(await within(fresh.next(), 3000, "the fresh subscriber's event")).toMatchObject({ data: 'still served' });
  });

  it('counts IPv6 clients by /64, however each writes its address, and IPv4-mapped ones as IPv4', () => {
    // One subscriber's /64 holds 2^64 addresses: each must not be a budget of its own.
    const same = [
      '2001:db8:1:2::1',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0db8:0001:0002:0:0:0:7',
      '2001:DB8:1:2::10.0.0.1',
      '2001:db8:1:2::1%eth0',
    ];
    expect(new Set(same.map(addressKey))).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('')).toBe('');
  });
});
