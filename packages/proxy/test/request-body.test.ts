/**
 * `request_body` before `reverse_proxy`: the cap holds for what the upstream receives. A
 * Content-Length past it never reaches the upstream; a longer body (chunked) stops at it, the
 * upstream's request is aborted (never taken as whole) and the client gets the 413.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer as createH2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { requestBody } from '@ferry/core';
import { portOf } from '@ferry/test-kit/servers';
import { httpUpstream } from '@ferry/test-kit/upstreams';
import { within } from '@ferry/test-kit/waiting';
import { describe, expect, it } from 'vitest';
import { defer, rawClient, readUntil, startProxy } from './helpers/net.js';

const MAX = 1000;

/** Everything the client got until the proxy closed the connection. */
function untilClosed(sock: import('node:net').Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString('latin1')));
    sock.once('close', () => resolve(got));
  });
}

/** An upstream that reads each request body; `received` settles with the bytes it got and whether the body ended whole. */
async function countingUpstream() {
  const bodies: Promise<{ bytes: number; whole: boolean }>[] = [];
  const up = await httpUpstream('counting', (req: IncomingMessage, res) => {
    bodies.push(
      new Promise((resolve) => {
        let bytes = 0;
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('end', () => {
          res.end(`upstream read ${bytes}`);
          resolve({ bytes, whole: true });
        });
        req.on('error', () => {});
        req.on('close', () => resolve({ bytes, whole: req.complete }));
      }),
    );
  });
  return { ...up, bodies };
}

const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;

describe('request_body before reverse_proxy (HTTP/1.1 upstream)', () => {
  it('a chunked body past max_size: the upstream gets at most max_size bytes and an aborted request, the client a 413', async () => {
    const up = await countingUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [requestBody({ maxSize: MAX })] });
    const sock = await rawClient(portOf(proxy));
    const answer = untilClosed(sock);
    sock.write('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    sock.write(chunk('a'.repeat(600)));
    // Wait until the upstream has the request, so the body is streaming through, then pass the cap.
    await within(
      (async () => {
        while (up.bodies.length === 0) await once(up.server, 'request');
      })(),
      3000,
      'the upstream request',
    );
    sock.write(chunk('b'.repeat(600)));
    const got = await within(answer, 3000, "the proxy's answer");
    expect(got).toMatch(/^HTTP\/1\.1 413 /);
    expect(got).toContain('request body larger than 1000 bytes');
    const seen = await within(up.bodies[0]!, 3000, 'the upstream request to end');
    expect(seen.whole).toBe(false);
    expect(seen.bytes).toBeLessThanOrEqual(MAX);
  });

  it('a Content-Length past max_size is refused before the upstream is contacted', async () => {
    const up = await countingUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [requestBody({ maxSize: MAX })] });
    const sock = await rawClient(portOf(proxy));
    sock.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n');
    const head = await within(
      readUntil(sock, (b) => b.includes('\r\n\r\n')),
      3000,
      'the 413',
    );
    expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 413 /);
    expect(up.seen).toHaveLength(0);
  });

  it('a body within max_size reaches the upstream whole', async () => {
    const up = await countingUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [requestBody({ maxSize: MAX })] });
    const sock = await rawClient(portOf(proxy));
    sock.write(`POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(MAX))}0\r\n\r\n`);
    const got = await within(
      readUntil(sock, (b) => b.includes('upstream read')),
      3000,
      'the answer',
    );
    expect(got.toString('latin1')).toMatch(/^HTTP\/1\.1 200 [\s\S]*upstream read 1000$/);
  });
});

describe('request_body before reverse_proxy (h2c upstream)', () => {
  it('a chunked body past max_size: the upstream stream is reset, the client gets a 413', async () => {
    const server = createH2Server();
    let arrived: () => void = () => {};
    const streamArrived = new Promise<void>((r) => (arrived = r));
    const upstream: Promise<{ bytes: number; ended: boolean }> = new Promise((resolve) => {
      server.on('stream', (stream: ServerHttp2Stream) => {
        arrived();
        let bytes = 0;
        let ended = false;
        stream.on('error', () => {});
        stream.on('data', (c: Buffer) => (bytes += c.length));
        stream.on('end', () => {
          ended = true;
          stream.respond({ ':status': 200 });
          stream.end('whole');
        });
        stream.on('close', () => resolve({ bytes, ended }));
      });
    });
    const sessions = new Set<ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    defer(() => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(() => r(undefined)));
    });
    const dial = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await startProxy(
      { upstreams: [{ dial }], transport: { versions: ['h2c'] } },
      { before: [requestBody({ maxSize: MAX })] },
    );
    const sock = await rawClient(portOf(proxy));
    const answer = untilClosed(sock);
    sock.write('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    sock.write(chunk('a'.repeat(600)));
    await within(streamArrived, 3000, 'the upstream stream');
    sock.write(chunk('b'.repeat(600)));
    const got = await within(answer, 3000, "the proxy's answer");
    expect(got).toMatch(/^HTTP\/1\.1 413 /);
    const seen = await within(upstream, 3000, 'the upstream stream to close');
    expect(seen.ended).toBe(false);
    expect(seen.bytes).toBeLessThanOrEqual(MAX);
  });
});
