/**
 * `request_body` (`max_size`): a body past it gets 413 whether announced by Content-Length or
 * arriving longer (chunked, h2), and the handler after it reads at most `max_size` bytes — from
 * `req.body` as a raw stream as much as through `req.json()`.
 */
import { once } from 'node:events';
import { h2Session } from '@ferry/test-kit/clients';
import { within } from '@ferry/test-kit/waiting';
import { describe, expect, it } from 'vitest';
import { ConfigError, type FerryRequest, type ResponseWriter, requestBody } from '../src/index.js';
import { send, useServers } from './helpers/http.js';
import { rawClient } from './helpers/raw.js';

const serve = useServers();

/** Reads `req.body` as a raw stream, counting the bytes it got; answers with the count. */
function rawReader(got: number[]) {
  return async (req: FerryRequest, res: ResponseWriter) => {
    let n = 0;
    try {
      for await (const chunk of req.body) n += (chunk as Buffer).length;
    } finally {
      got.push(n);
    }
    res.end(`read ${n}\n`);
  };
}

const errorRoutes = {
  routes: [
    {
      handle: [
        { handler: 'static_response', status_code: '{http.error.status_code}', body: 'E {http.error.status_code}: {http.error.message}' },
      ],
    },
  ],
};

describe('request_body in config', () => {
  it('a Content-Length past max_size is a 413 through the error routes, before the handler after it runs', async () => {
    const server = await serve({
      routes: [
        {
          handle: [
            { handler: 'request_body', max_size: 10 },
            { handler: 'static_response', body: 'reached' },
          ],
        },
      ],
      errors: errorRoutes,
    });
    const over = await send(server.url, '/', { method: 'POST', body: '01234567890' });
    expect([over.status, over.body]).toEqual([413, 'E 413: request body larger than 10 bytes']);
    const fits = await send(server.url, '/', { method: 'POST', body: '0123456789' });
    expect([fits.status, fits.body]).toEqual([200, 'reached']);
  });

  it('max_size is a byte count, as in Caddy JSON: a humanized size is refused with the number to write', async () => {
    const err = await serve({ routes: [{ handle: [{ handler: 'request_body', max_size: '10MB' }] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const [issue] = (err as ConfigError).issues;
    expect(issue?.path).toBe('routes[0].handle[0].max_size');
    expect(issue?.message).toContain('10000000');
    for (const bad of [-1, 1.5]) {
      const e = await serve({ routes: [{ handle: [{ handler: 'request_body', max_size: bad }] }] }).catch((x: unknown) => x);
      expect((e as ConfigError).issues[0]?.path).toBe('routes[0].handle[0].max_size');
    }
  });

  it('unset or 0, there is no limit', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    for (const cfg of [{}, { max_size: 0 }]) {
      const server = await serve({ routes: [{ handle: [{ handler: 'request_body', ...cfg }, rawReader([])] }] });
      expect((await send(server.url, '/', { method: 'POST', body: big })).body).toBe(`read ${big.length}\n`);
    }
  });
});

describe('request_body before a handler that reads the raw stream', () => {
  it('a chunked body past max_size fails the stream with a 413 once past it; the handler got at most max_size bytes', async () => {
    const got: number[] = [];
    const server = await serve({ routes: [{ handle: [requestBody({ maxSize: 1000 }), rawReader(got)] }] });
    const c = await rawClient(server.url);
    c.socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.socket.write(`3e8\r\n${'a'.repeat(1000)}\r\n`);
    c.socket.write(`1\r\nb\r\n`);
    const all = await c.waitFor((s) => /HTTP\/1\.1 \d\d\d /.test(s));
    expect(all).toMatch(/^HTTP\/1\.1 413 /);
    await c.closed();
    expect(got).toHaveLength(1);
    expect(got[0]).toBeLessThanOrEqual(1000);
  });

  it('a body within max_size is read whole, chunked or not', async () => {
    const got: number[] = [];
    const server = await serve({ routes: [{ handle: [requestBody({ maxSize: 1000 }), rawReader(got)] }] });
    expect((await send(server.url, '/', { method: 'POST', body: 'a'.repeat(1000) })).body).toBe('read 1000\n');
    const c = await rawClient(server.url);
    c.socket.write(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${'a'.repeat(1000)}\r\n0\r\n\r\n`);
    await c.waitFor((s) => s.includes('read 1000\n'));
  });

  it('on h2 a body without a length is cut at max_size, the stream reset with NO_ERROR after the 413', async () => {
    const got: number[] = [];
    const server = await serve({ protocols: ['h1', 'h2c'], routes: [{ handle: [requestBody({ maxSize: 1000 }), rawReader(got)] }] });
    const session = await h2Session(server.url);
    const stream = session.request({ ':method': 'POST', ':path': '/' }, { endStream: false });
    stream.on('error', () => {});
    stream.write(Buffer.alloc(600));
    stream.write(Buffer.alloc(600));
    const [head] = await within(once(stream, 'response'), 3000, 'the response');
    stream.resume();
    await within(once(stream, 'close'), 3000, 'the stream closed by the server');
    expect(head[':status']).toBe(413);
    expect(stream.rstCode).toBe(0);
    expect(got[0]).toBeLessThanOrEqual(1000);
  });

  it('without request_body, req.body is the request itself: nothing is wrapped', async () => {
    const seen: boolean[] = [];
    const server = await serve({
      routes: [
        {
          handle: [
            async (req, res, next) => {
              seen.push(req.body === req.raw);
              req.limitBody(100);
              seen.push(req.body === req.raw);
              await next(req, res);
            },
          ],
        },
      ],
    });
    await send(server.url, '/', { method: 'POST', body: 'x' });
    expect(seen).toEqual([true, false]);
  });
});

describe('request_body and the body readers', () => {
  it('max_size replaces the readers’ default limit', async () => {
    const server = await serve({
      routes: [
        { handle: [requestBody({ maxSize: 2 * 1024 * 1024 }), async (req, res) => void res.end(String((await req.text()).length))] },
      ],
    });
    const body = 'x'.repeat(1536 * 1024);
    expect((await send(server.url, '/', { method: 'POST', body })).body).toBe(String(body.length));
  });

  it('a reader’s own limit cannot let more through than max_size', async () => {
    const server = await serve({
      routes: [
        { handle: [requestBody({ maxSize: 1000 }), async (req, res) => void res.end(String((await req.text({ limit: 1e7 })).length))] },
      ],
    });
    const over = await send(server.url, '/', { method: 'POST', body: 'x'.repeat(1001) });
    expect([over.status, over.body]).toEqual([413, 'request body larger than 1000 bytes\n']);
  });

  it('two request_body handlers: the smaller max_size wins', async () => {
    const got: number[] = [];
    const server = await serve({ routes: [{ handle: [requestBody({ maxSize: 100 }), requestBody({ maxSize: 1000 }), rawReader(got)] }] });
    expect((await send(server.url, '/', { method: 'POST', body: 'x'.repeat(101) })).status).toBe(413);
  });
});
