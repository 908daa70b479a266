/** When encode leaves a response alone: it would not pay, or it is not allowed to touch it. */
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import type { Handler } from '@ferry/core';
import { encode } from '../src/index.js';
import { decode, h1Get, serve, text } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Get, h2Session } from '@ferry/test-kit/clients';

const GZIP = { 'accept-encoding': 'gzip' };

/** A server with encode (by default gzip, minimum_length 512) in front of `handler`; `secure` for h2 over TLS. */
const behind = (handler: Handler, options: Parameters<typeof encode>[0] = { encodings: { gzip: {} } }, secure = false) =>
  serve({ secure, handler: [encode(options), handler] });

describe('responses encode leaves alone', () => {
  it('a Content-Type outside the compressible list (image/png) goes out unencoded', async () => {
    const png = text(4096);
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'image/png');
      res.end(png);
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBeUndefined();
    // Nothing encode could do would change an image: no Vary either.
    expect(reply.headers.vary).toBeUndefined();
    expect(reply.body.equals(png)).toBe(true);
  });

  it('a response the handler already encoded keeps its Content-Encoding and bytes', async () => {
    const precompressed = gzipSync(text(4096));
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-encoding', 'gzip');
      res.end(precompressed);
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.body.equals(precompressed)).toBe(true);
  });

  it('a request saying Cache-Control: no-transform gets the body unencoded', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(text(4096));
    });
    const reply = await h1Get(server.url, '/', { headers: { ...GZIP, 'cache-control': 'max-age=0, no-transform' } });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.equals(text(4096))).toBe(true);
  });

  it('a response saying Cache-Control: no-transform goes out unencoded', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('cache-control', 'public, no-transform');
      res.end(text(4096));
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.equals(text(4096))).toBe(true);
  });

  it('a 204 goes out unencoded and without a body', async () => {
    const server = await behind(async (_req, res) => {
      res.statusCode = 204;
      res.setHeader('content-type', 'text/plain');
      res.end();
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.status).toBe(204);
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.length).toBe(0);
  });

  it('a 206 partial response goes out unencoded, its Content-Range and Content-Length intact', async () => {
    const part = text(4096).subarray(1000, 3000);
    const server = await behind(async (_req, res) => {
      res.writeHead(206, { 'content-type': 'text/plain', 'content-range': 'bytes 1000-2999/4096', 'content-length': part.length });
      res.end(part);
    });
    const reply = await h1Get(server.url, '/', { headers: { ...GZIP, range: 'bytes=1000-2999' } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers['content-range']).toBe('bytes 1000-2999/4096');
    expect(reply.headers['content-length']).toBe(String(part.length));
    expect(reply.body.equals(part)).toBe(true);
  });

  it('a body declared shorter than minimum_length by Content-Length goes out unencoded, Content-Length intact', async () => {
    const body = text(300);
    const handler: Handler = async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', body.length);
      res.write(body.subarray(0, 100));
      res.write(body.subarray(100));
      res.end();
    };
    const plain = await behind(handler);
    const secure = await behind(handler, undefined, true);
    for (const reply of [
      await h1Get(plain.url, '/', { headers: GZIP }),
      await h2Get(await h2Session(secure.url, { ca: certificates().ca }), '/', GZIP),
    ]) {
      expect(reply.headers['content-encoding']).toBeUndefined();
      expect(reply.headers['content-length']).toBe('300');
      expect(reply.body.equals(body)).toBe(true);
    }
  });

  it('a body that ends within minimum_length goes out unencoded, with its Content-Length', async () => {
    const body = text(500);
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      for (let i = 0; i < body.length; i += 50) res.write(body.subarray(i, i + 50));
      res.end();
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers['content-length']).toBe('500');
    expect(reply.headers['transfer-encoding']).toBeUndefined();
    expect(reply.body.equals(body)).toBe(true);
  });
});

describe('the Content-Type encode decides by', () => {
  it('a response without Content-Type gets one sniffed from its bytes first, and HTML is compressed', async () => {
    const html = Buffer.concat([Buffer.from('<!DOCTYPE html><html><body>'), text(4096)]);
    const server = await behind(async (_req, res) => {
      res.end(html);
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(decode(reply.body, 'gzip').equals(html)).toBe(true);
  });
});

describe('a custom match', () => {
  const custom = { encodings: { gzip: {} }, match: { statusCode: [200], headers: { 'Content-Type': ['application/x-ndjson*'] } } };
  const typed =
    (type: string, status = 200): Handler =>
    async (_req, res) => {
      res.statusCode = status;
      res.setHeader('content-type', type);
      res.end(text(4096));
    };

  it('compresses a response whose status and Content-Type it names', async () => {
    const server = await behind(typed('application/x-ndjson; charset=utf-8'), custom);
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(decode(reply.body, 'gzip').equals(text(4096))).toBe(true);
  });

  it('replaces the default type list: text/html is no longer compressed', async () => {
    const server = await behind(typed('text/html'), custom);
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  it('leaves a response with another status unencoded', async () => {
    const server = await behind(typed('application/x-ndjson', 404), custom);
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.status).toBe(404);
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.equals(text(4096))).toBe(true);
  });

  it('matches a status class by its first digit', async () => {
    const server = await behind(typed('text/plain', 404), { encodings: { gzip: {} }, match: { statusCode: [4] } });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
  });
});
