/**
 * A refused body on the wire: a 413 goes out before the body is read when its length is
 * announced (and then without 100 Continue), as soon as the limit is passed when it is not
 * (chunked, h2), and what the client sent after never becomes a request — the connection closes,
 * or the h2 stream is reset with NO_ERROR, so the client stops sending.
 */
import { once } from 'node:events';
import type { ClientHttp2Stream } from 'node:http2';
import { Readable } from 'node:stream';
import { h2Session } from '@ferry/test-kit/clients';
import { deferred } from '@ferry/test-kit/lifecycle';
import { eventually, within } from '@ferry/test-kit/waiting';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { FerryRequest, ResponseWriter } from '../src/index.js';
import { useServers } from './helpers/http.js';
import { rawClient } from './helpers/raw.js';

const serve = useServers();

const LIMIT = 1000;

/** Reads the body as text with a 1000-byte limit; logs every request it sees. */
function limitedEcho(seen: string[]) {
  return async (req: FerryRequest, res: ResponseWriter) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === 'GET') return void res.end(`got ${req.url}\n`);
    const text = await req.text({ limit: LIMIT });
    res.end(`read ${text.length}\n`);
  };
}

const statusLine = (all: string) => /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n[\s\S]*?\r\n\r\n/.test(all);

describe('HTTP/1.1', () => {
  it('a Content-Length past the limit gets 413 before a byte of the body is sent, and the connection closes', async () => {
    const seen: string[] = [];
    const server = await serve({ handler: limitedEcho(seen) });
    const c = await rawClient(server.url);
    c.socket.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`);
    const all = await c.waitFor(statusLine);
    expect(all).toMatch(/^HTTP\/1\.1 413 /);
    expect(all).toMatch(/\r\nconnection: close\r\n/i);
    await c.closed();
  });

  it('a short refused body is skipped, not read as the next request', async () => {
    const seen: string[] = [];
    const server = await serve({ handler: limitedEcho(seen) });
    const c = await rawClient(server.url);
    // The refused body is itself a request, padded to 1500 bytes.
    const inner = 'GET /smuggled HTTP/1.1\r\nHost: x\r\nX-Pad: ';
    const body = `${inner}${'p'.repeat(1500 - inner.length - 4)}\r\n\r\n`;
    c.socket.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    await c.waitFor((all) => all.includes('request body larger than 1000 bytes'));
    c.socket.write(`${body}GET /next HTTP/1.1\r\nHost: x\r\n\r\n`);
    await c.waitFor((all) => all.includes('got /next') || all.includes('smuggled'));
    expect(c.received()).not.toContain('smuggled');
    expect(seen).toEqual(['POST /up', 'GET /next']);
  });

  it('a chunked body is refused as soon as it passes the limit, without waiting for its end', async () => {
    const seen: string[] = [];
    const server = await serve({ handler: limitedEcho(seen) });
    const c = await rawClient(server.url);
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.socket.write(`${(600).toString(16)}\r\n${'a'.repeat(600)}\r\n`);
    c.socket.write(`${(401).toString(16)}\r\n${'b'.repeat(401)}\r\n`);
    // The body never ends, and what would follow it is never parsed.
    const all = await c.waitFor(statusLine);
    expect(all).toMatch(/^HTTP\/1\.1 413 /);
    expect(all).toMatch(/\r\nconnection: close\r\n/i);
    await c.closed();
    expect(seen).toEqual(['POST /up']);
  });

  it('a chunked body within the limit is read whole and the connection kept', async () => {
    const server = await serve({ handler: limitedEcho([]) });
    const c = await rawClient(server.url);
    c.socket.write(`POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${'a'.repeat(1000)}\r\n0\r\n\r\n`);
    await c.waitFor((all) => all.includes('read 1000\n'));
    c.socket.write('GET /again HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await c.waitFor((all) => all.includes('got /again'))).not.toMatch(/connection: close/i);
  });

  it('Expect: 100-continue with a Content-Length past the limit: 413, no 100 Continue, connection closed', async () => {
    const server = await serve({ handler: limitedEcho([]) });
    const c = await rawClient(server.url);
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n');
    const all = await c.waitFor(statusLine);
    expect(all).toMatch(/^HTTP\/1\.1 413 /);
    expect(all).not.toContain('100 Continue');
    await c.closed();
  });

  it('Expect: 100-continue without a length: 100 when the reader starts, then 413 once past the limit', async () => {
    const server = await serve({ handler: limitedEcho([]) });
    const c = await rawClient(server.url);
    c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n');
    await c.waitFor((all) => all.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    c.socket.write(`7d1\r\n${'a'.repeat(2001)}\r\n`);
    expect(await c.waitFor((all) => /HTTP\/1\.1 413 /.test(all))).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 413 /);
    await c.closed();
  });

  it('a client that goes away mid-body settles the reader with a 400, and the server serves on', async () => {
    const settled: unknown[] = [];
    const reading = deferred();
    const server = await serve({
      handler: async (req, res) => {
        if (req.method === 'GET') return void res.end('alive\n');
        try {
          const body = req.json();
          reading.resolve();
          await body;
        } catch (err) {
          settled.push((err as { status?: number }).status);
          throw err;
        }
      },
    });
    const c = await rawClient(server.url);
    c.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    await within(reading.promise, 2000, 'the reader started');
    c.socket.destroy();
    await eventually(() => settled.length > 0, 2000, 'the reader settled');
    expect(settled).toEqual([400]);
    const again = await rawClient(server.url);
    again.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await again.waitFor((all) => all.includes('alive'));
  });

  it('undici: a streamed upload past the limit gets 413 while it is still sending', async () => {
    const server = await serve({ handler: limitedEcho([]) });
    let pushed = 0;
    // Sends the limit and one byte, then waits for ever (until the test's end tears it down).
    const body = new Readable({
      read() {
        if (pushed === 0) {
          pushed = LIMIT + 1;
          this.push(Buffer.alloc(LIMIT + 1, 0x61));
        }
      },
    });
    const res = await within(request(server.url, { method: 'POST', body }), 3000, 'the response');
    expect(res.statusCode).toBe(413);
    expect(await res.body.text()).toBe('request body larger than 1000 bytes\n');
    body.destroy();
  });
});

describe('h2', () => {
  /** A POST stream with the first `bytes` of its body sent and the rest held back. */
  async function upload(url: string, bytes: number, headers: Record<string, string | number> = {}) {
    const session = await h2Session(url);
    const stream = session.request({ ':method': 'POST', ':path': '/up', ...headers }, { endStream: false });
    stream.on('error', () => {});
    if (bytes > 0) stream.write(Buffer.alloc(bytes, 0x61));
    const [head] = await within(once(stream, 'response'), 3000, 'the response');
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (text += d));
    await within(once(stream, 'close'), 3000, 'the stream closed by the server');
    return { session, stream: stream as ClientHttp2Stream, status: Number(head[':status']), text };
  }

  it('a body without a length is refused once past the limit, and the stream reset with NO_ERROR', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], handler: limitedEcho([]) });
    const r = await upload(server.url, LIMIT + 1);
    expect([r.status, r.text]).toEqual([413, 'request body larger than 1000 bytes\n']);
    // RST_STREAM(NO_ERROR) after the response (RFC 9113 §8.1): the client stops sending.
    expect(r.stream.rstCode).toBe(0);
    // The session is unharmed.
    const again = r.session.request({ ':path': '/fine' });
    again.setEncoding('utf8');
    let text = '';
    again.on('data', (d: string) => (text += d));
    await within(once(again, 'end'), 3000, 'a second request');
    expect(text).toBe('got /fine\n');
  });

  it('a content-length past the limit is refused before the body is sent', async () => {
    const server = await serve({ protocols: ['h1', 'h2c'], handler: limitedEcho([]) });
    const r = await upload(server.url, 0, { 'content-length': 5000 });
    expect(r.status).toBe(413);
  });
});
