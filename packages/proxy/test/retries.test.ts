import { createServer as createNetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defer, netUpstream, startProxy } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { freePort, freePorts } from '@ferry/test-kit/ports';
import { httpUpstream } from '@ferry/test-kit/upstreams';

/** An upstream that reads a request's headers, then resets the connection (RST). */
async function resetter() {
  let connections = 0;
  const up = await netUpstream((socket) => {
    connections++;
    let head = '';
    socket.on('data', (c: Buffer) => {
      head += c.toString('latin1');
      if (head.includes('\r\n\r\n')) socket.resetAndDestroy();
    });
  });
  return { ...up, connections: () => connections };
}

describe('retries, try_duration, try_interval', () => {
  it('moves past an upstream nobody listens on to a live one', async () => {
    const dead = await freePort();
    const live = await httpUpstream('live');
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${dead}` }, { dial: live.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 1, tryInterval: '10ms' },
    });
    const r = await h1Get(proxy.url);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('live');
  });

  it('moves a POST past a refused connection with its body intact (nothing was sent)', async () => {
    const dead = await freePort();
    const live = await httpUpstream('live', async (req, res) => {
      let body = '';
      for await (const c of req) body += String(c);
      res.end(`got ${body.length}: ${body.slice(0, 5)}`);
    });
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${dead}` }, { dial: live.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 1, tryInterval: '10ms' },
    });
    const r = await h1Get(proxy.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello'.repeat(2000) });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('got 10000: hello');
  });

  it('answers 502 when every upstream refuses the connection', async () => {
    const [a, b] = await freePorts(2);
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${a}` }, { dial: `127.0.0.1:${b}` }],
      loadBalancing: { retries: 3, tryInterval: '10ms' },
    });
    expect((await h1Get(proxy.url)).status).toBe(502);
  });

  it('does not retry a POST whose body went to an upstream that then reset', async () => {
    const bad = await resetter();
    const live = await httpUpstream('live');
    const proxy = await startProxy({
      upstreams: [{ dial: bad.dial }, { dial: live.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 2, tryInterval: '10ms' },
    });
    const r = await h1Get(proxy.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(1000) });
    expect(r.status).toBe(502);
    expect(bad.connections()).toBe(1);
    expect(live.seen).toHaveLength(0);
  });

  it('retries a GET on another upstream after a reset', async () => {
    const bad = await resetter();
    const live = await httpUpstream('live');
    const proxy = await startProxy({
      upstreams: [{ dial: bad.dial }, { dial: live.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 2, tryInterval: '10ms' },
    });
    const r = await h1Get(proxy.url);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('live');
    expect(bad.connections()).toBe(1);
  });

  it('answers 504 when the upstream sends no headers within response_header_timeout', async () => {
    const silent = await netUpstream((socket) => socket.resume());
    const proxy = await startProxy({ upstreams: [{ dial: silent.dial }], transport: { responseHeaderTimeout: '200ms' } });
    const started = performance.now();
    expect((await h1Get(proxy.url)).status).toBe(504);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(600);
  });

  it('keeps dialing for try_duration, so an upstream that comes up in time gets the request', async () => {
    const port = await freePort();
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${port}` }],
      loadBalancing: { tryDuration: '5s', tryInterval: '25ms' },
    });
    const pending = h1Get(proxy.url);
    // The behaviour under test is waiting: the upstream appears only after a few failed dials.
    await new Promise((r) => setTimeout(r, 150));
    const late = createNetServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlate', () => s.destroy()));
    await new Promise<void>((r) => late.listen(port, '127.0.0.1', r));
    defer(() => new Promise((r) => late.close(r)));
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('late');
  });

  it('gives up with 502 once try_duration has passed', async () => {
    const port = await freePort();
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${port}` }],
      loadBalancing: { tryDuration: '300ms', tryInterval: '20ms' },
    });
    const started = performance.now();
    expect((await h1Get(proxy.url)).status).toBe(502);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
  });
});
