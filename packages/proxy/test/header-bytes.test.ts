/**
 * An upstream's field value with bytes past ASCII (a raw UTF-8 filename, as some backends send
 * it) reaches the client as those bytes, one for one, as Caddy passes it on — with a body of known
 * length (sent with the head in one end()) and with a streamed one (the head flushed first, where
 * Node's flushHeaders() used to encode it as UTF-8 a second time: core's latin1_head.ts).
 */
import { describe, expect, it } from 'vitest';
import { rawClient, readUntil, startProxy } from './helpers/net.js';
import { rawUpstream } from './helpers/raw-h1.js';

/** "café €.txt" as UTF-8 bytes on the wire. */
const NAME = Buffer.from('attachment; filename="café €.txt"', 'utf8');

const bodies: Record<string, Buffer> = {
  '/sized': Buffer.from('Content-Length: 2\r\n\r\nok'),
  '/chunked': Buffer.from('Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'),
  '/events': Buffer.from('Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: ok\n\r\n0\r\n\r\n'),
};

describe('upstream field values with bytes past ASCII', () => {
  it.each(Object.keys(bodies))('reach the client byte for byte (%s)', async (path) => {
    const up = await rawUpstream((_req, socket) => {
      socket.write(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Disposition: '), NAME, Buffer.from('\r\n'), bodies[path]!]));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const client = await rawClient(Number(new URL(proxy.url).port));
    client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const got = await readUntil(client, (b) => b.includes('ok') && (path === '/sized' || b.includes('0\r\n\r\n')));
    const field = Buffer.concat([Buffer.from('\r\ncontent-disposition: '), NAME, Buffer.from('\r\n')]);
    expect(got.includes(field), got.toString('latin1')).toBe(true);
  });
});

describe('upstream fields stored without a second check (the parser checked them)', () => {
  it('reach the client as received: a repeated field as repeated lines, names in lower case, Via appended', async () => {
    const up = await rawUpstream((_req, socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\nX-Multi: a\r\nx-multi: b, c\r\nX-CASE: V\r\nSet-Cookie: s=1\r\nSet-Cookie: t=2\r\nVia: 1.0 edge\r\nContent-Length: 2\r\n\r\nok',
      );
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const client = await rawClient(Number(new URL(proxy.url).port));
    client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const head = (await readUntil(client, (b) => b.includes('\r\n\r\nok'))).toString('latin1');
    for (const line of [
      'x-multi: a',
      'x-multi: b, c',
      'x-case: V',
      'set-cookie: s=1',
      'set-cookie: t=2',
      'via: 1.0 edge, 1.1 ferry',
      'content-length: 2',
    ])
      expect(head, head).toContain(`\r\n${line}\r\n`);
    expect(head.match(/\r\nx-multi:/g)).toHaveLength(2);
  });

  it('add Via to the same head answered again and again once each time, the head the parser kept unchanged', async () => {
    const heads: Record<string, string> = {
      '/edge': 'HTTP/1.1 200 OK\r\nVia: 1.0 edge\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
      '/plain': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok',
    };
    const up = await rawUpstream((req, socket) => {
      socket.write(heads[req.target]!);
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const client = await rawClient(Number(new URL(proxy.url).port));
    for (const [path, via] of [
      ['/edge', '1.0 edge, 1.1 ferry'],
      ['/edge', '1.0 edge, 1.1 ferry'],
      ['/plain', '1.1 ferry'],
      ['/plain', '1.1 ferry'],
      ['/plain', '1.1 ferry'],
      ['/edge', '1.0 edge, 1.1 ferry'],
    ] as const) {
      client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const got = (await readUntil(client, (b) => b.includes('\r\n\r\nok'))).toString('latin1');
      expect(got, got).toMatch(/^HTTP\/1\.1 200 /);
      expect(got.match(/\r\nvia: [^\r]*/gi), got).toEqual([`\r\nvia: ${via}`]);
    }
    // Each answer came from the upstream: none was served from anywhere else.
    expect(up.requests).toHaveLength(6);
  });
});
