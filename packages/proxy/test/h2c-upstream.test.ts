import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer as createH2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { defer, deferred, outcome, startProxy } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { freePort } from '@ferry/test-kit/ports';

/** A cleartext HTTP/2 (prior knowledge) upstream on 127.0.0.1. */
async function h2cUpstream(onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createH2Server();
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('error', () => {});
    s.once('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    for (const s of sessions) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { dial: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('h2c upstream transport', () => {
  it('proxies a GET to an h2c upstream', async () => {
    const up = await h2cUpstream((stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-path': String(headers[':path']) });
      stream.end('hello from h2c');
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { versions: ['h2c'] } });
    const r = await h1Get(`${proxy.url}/a/b?c=1`, { headers: { host: 'site.example' } });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello from h2c');
    expect(r.headers['x-path']).toBe('/a/b?c=1');
    const h = up.seen[0]!;
    expect(h[':method']).toBe('GET');
    expect(h[':authority']).toBe('site.example');
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('streams a POST both ways through an h2c upstream, each chunk echoed before the next is sent', async () => {
    const up = await h2cUpstream((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      stream.pipe(stream);
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { versions: ['h2c'] } });
    const req = httpRequest(`${proxy.url}/echo`, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream' } });
    req.flushHeaders();
    req.write('chunk 0;');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    let got = '';
    let next = 1;
    const finished = new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => {
        got += c.toString();
        // A chunk goes out only once the previous one came back: nothing may sit in a buffer.
        if (next < 5 && got.endsWith(`chunk ${next - 1};`)) req.write(`chunk ${next++};`);
        else if (next === 5 && got.endsWith('chunk 4;')) {
          next++;
          req.end();
        }
      });
      res.on('end', resolve);
    });
    await finished;
    expect(got).toBe('chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;');
    expect(up.seen[0]![':method']).toBe('POST');
  });

  it("aborts the client's response when the h2c upstream resets its stream mid-body (RST_STREAM)", async () => {
    const clientHasBytes = deferred();
    const up = await h2cUpstream((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.write('x'.repeat(100));
      // destroy(err), not close(code): Node's close() ends the stream (END_STREAM) before its RST.
      void clientHasBytes.promise.then(() => stream.destroy(new Error('upstream died')));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { versions: ['h2c'] } });
    const req = httpRequest(proxy.url, { agent: false });
    req.on('error', () => {});
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    res.once('data', () => clientHasBytes.resolve());
    expect(await outcome(res)).toBe('aborted');
  });

  it('moves past an h2c upstream nobody listens on', async () => {
    const live = await h2cUpstream((stream) => {
      stream.respond({ ':status': 200 });
      stream.end('live');
    });
    const proxy = await startProxy({
      upstreams: [{ dial: `127.0.0.1:${await freePort()}` }, { dial: live.dial }],
      loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 1, tryInterval: '0s' },
      transport: { versions: ['h2c'] },
    });
    const r = await h1Get(proxy.url);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('live');
  });

  it("aborts the client's response when the h2c upstream's connection drops mid-body", async () => {
    const clientHasBytes = deferred();
    const up = await h2cUpstream((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.write('x'.repeat(100));
      void clientHasBytes.promise.then(() => stream.session?.destroy());
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }], transport: { versions: ['h2c'] } });
    const req = httpRequest(proxy.url, { agent: false });
    req.on('error', () => {});
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.once('data', () => clientHasBytes.resolve());
    expect(await outcome(res)).toBe('aborted');
  });
});
