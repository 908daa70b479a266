import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { constants as h2constants, type ClientHttp2Stream } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { capturedLogger, deferred, outcome, startProxy } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h1Get, h2Session } from '@ferry/test-kit/clients';
import { httpUpstream } from '@ferry/test-kit/upstreams';
import { eventually } from '@ferry/test-kit/waiting';

/** An upstream that holds every request open and reports when its response closed unfinished. */
async function hanging(name: string) {
  const arrived = deferred();
  const aborted = deferred();
  let hits = 0;
  const up = await httpUpstream(name, (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    hits++;
    if (req.url !== '/hang') return void res.end(name);
    res.on('close', () => {
      if (!res.writableFinished) aborted.resolve();
    });
    arrived.resolve();
  });
  return { ...up, arrived: arrived.promise, aborted: aborted.promise, hits: () => hits };
}

/**
 * An upstream that starts a response, sends part of the body, and drops the connection once the
 * client has those bytes (`clientHasBytes()`): a failure that is unmistakably mid-body.
 */
async function dying(headers: Record<string, string | number>) {
  const received = deferred();
  const up = await httpUpstream('dying', (req, res) => {
    req.resume();
    res.writeHead(200, headers);
    res.write('x'.repeat(100));
    void received.promise.then(() => res.socket?.destroy());
  });
  return { ...up, clientHasBytes: () => received.resolve() };
}

describe('a client that goes away before the response', () => {
  it('aborts the upstream request, without a retry or a passive health strike, and logs 499', async () => {
    const a = await hanging('a');
    const b = await hanging('b');
    const { logger, lines } = capturedLogger();
    const proxy = await startProxy(
      {
        upstreams: [{ dial: a.dial }, { dial: b.dial }],
        loadBalancing: { selectionPolicy: { policy: 'first' }, retries: 3, tryInterval: '0s' },
        healthChecks: { passive: { failDuration: '30s', maxFails: 1 } },
      },
      { logger },
    );
    const req = httpRequest(`${proxy.url}/hang`, { agent: false });
    req.on('error', () => {});
    req.end();
    await a.arrived;
    req.destroy();
    await a.aborted;
    await eventually(() => lines.some((l) => l.status === 499), 3000);
    expect(b.hits()).toBe(0);
    expect(a.hits()).toBe(1);
    // No strike: with max_fails 1, a would be skipped for 30 s had the abort counted.
    expect((await h1Get(proxy.url)).body.toString()).toBe('a');
  });

  it('aborts the upstream request when an h2 client resets its stream', async () => {
    const a = await hanging('a');
    const { tls, ca } = certificates();
    const proxy = await startProxy({ upstreams: [{ dial: a.dial }] }, { tls, protocols: ['h1', 'h2'] });
    const session = await h2Session(proxy.url, { ca });
    const stream = session.request({ ':path': '/hang' });
    stream.on('error', () => {});
    await a.arrived;
    stream.close(h2constants.NGHTTP2_CANCEL);
    await a.aborted;
    expect(a.hits()).toBe(1);
  });
});

describe('an upstream that fails mid-body', () => {
  it('aborts the HTTP/1.1 response of known length instead of ending it', async () => {
    const up = await dying({ 'content-type': 'text/plain', 'content-length': 1000 });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const req = httpRequest(proxy.url, { agent: false });
    req.on('error', () => {});
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.statusCode).toBe(200);
    res.once('data', up.clientHasBytes);
    expect(await outcome(res)).toBe('aborted');
  });

  it('aborts the chunked HTTP/1.1 response instead of sending its last chunk', async () => {
    const up = await dying({ 'content-type': 'text/plain' });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const req = httpRequest(proxy.url, { agent: false });
    req.on('error', () => {});
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['transfer-encoding']).toBe('chunked');
    res.once('data', up.clientHasBytes);
    expect(await outcome(res)).toBe('aborted');
  });

  it('resets the h2 stream (RST_STREAM) instead of ending it', async () => {
    const up = await dying({ 'content-type': 'text/plain' });
    const { tls, ca } = certificates();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { tls, protocols: ['h1', 'h2'] });
    const session = await h2Session(proxy.url, { ca });
    const stream: ClientHttp2Stream = session.request({ ':path': '/' });
    stream.on('error', () => {});
    let ended = false;
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
      up.clientHasBytes();
    });
    stream.on('end', () => (ended = true));
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    expect(headers[':status']).toBe(200);
    await new Promise((r) => stream.on('close', r));
    expect(stream.rstCode).not.toBe(h2constants.NGHTTP2_NO_ERROR);
    expect(ended).toBe(false);
    expect(bytes).toBe(100);
  });
});
