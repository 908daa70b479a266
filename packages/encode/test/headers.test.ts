/** What encode does to the response head: Vary, Content-Length, Accept-Ranges, ETag, HEAD, error pages. */
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HttpError, type Handler } from '@ferry/core';
import { encode } from '../src/index.js';
import { decode, h1Get, h1Response, serve, text } from './helpers/net.js';

const GZIP = { 'accept-encoding': 'gzip' };
const behind = (handler: Handler) => serve({ handler: [encode({ encodings: { gzip: {} } }), handler] });

/** Every value of one header field as it came off the wire, one entry per field line. */
function fieldLines(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/** How many times `token` appears in a header field, across all its lines. */
function tokenCount(raw: string[], name: string, token: string): number {
  return fieldLines(raw, name)
    .flatMap((v) => v.split(','))
    .filter((t) => t.trim().toLowerCase() === token.toLowerCase()).length;
}

describe('Vary: Accept-Encoding', () => {
  const page =
    (vary?: string): Handler =>
    async (_req, res) => {
      res.setHeader('content-type', 'text/html');
      if (vary) res.setHeader('vary', vary);
      res.end(text(4096));
    };

  it('is added once to a compressed response', async () => {
    const server = await behind(page());
    const res = await h1Response(server.url, '/', { headers: GZIP });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(tokenCount(res.rawHeaders, 'vary', 'accept-encoding')).toBe(1);
  });

  it('is not repeated when the handler already set Vary: Accept-Encoding', async () => {
    const server = await behind(page('accept-encoding'));
    const res = await h1Response(server.url, '/', { headers: GZIP });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(tokenCount(res.rawHeaders, 'vary', 'accept-encoding')).toBe(1);
  });

  it('joins a Vary: Origin the handler set, keeping both', async () => {
    const server = await behind(page('Origin'));
    const res = await h1Response(server.url, '/', { headers: GZIP });
    expect(tokenCount(res.rawHeaders, 'vary', 'origin')).toBe(1);
    expect(tokenCount(res.rawHeaders, 'vary', 'accept-encoding')).toBe(1);
  });

  it('is on an unencoded response of a compressible type, since another request would get it encoded', async () => {
    const server = await behind(page());
    const res = await h1Response(server.url, '/');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(tokenCount(res.rawHeaders, 'vary', 'accept-encoding')).toBe(1);
  });

  it('is on a response too short to compress', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('short');
    });
    const res = await h1Response(server.url, '/', { headers: GZIP });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(tokenCount(res.rawHeaders, 'vary', 'accept-encoding')).toBe(1);
  });

  it('is on a 304, as the 200 it stands for would carry it (RFC 9110 §15.4.5)', async () => {
    const server = await behind(async (_req, res) => {
      res.statusCode = 304;
      res.setHeader('etag', '"v1"');
      res.end();
    });
    const res = await h1Response(server.url, '/', { headers: { ...GZIP, 'if-none-match': '"v1"' } });
    expect(res.statusCode).toBe(304);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(tokenCount(res.rawHeaders, 'vary', 'accept-encoding')).toBe(1);
  });
});

describe('length and ranges of a compressed response', () => {
  it('a declared body up to 1 MiB written in pieces is held to its end and compressed whole: the Content-Length of the compressed bytes', async () => {
    const body = text(64 * 1024);
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', body.length);
      res.write(body.subarray(0, 1000));
      res.write(body.subarray(1000, 2000));
      res.end(body.subarray(2000));
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers['content-length']).toBe(String(reply.body.length));
    expect(decode(reply.body, 'gzip').equals(body)).toBe(true);
  });

  it('the handler’s Content-Length is dropped from a streamed compressed response (declared past 1 MiB)', async () => {
    const body = text(1536 * 1024);
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', body.length);
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers['content-length']).toBeUndefined();
    expect(decode(reply.body, 'gzip').equals(body)).toBe(true);
  });

  it('a declared body being held goes out at a flush(): the head and what was written, before the end', async () => {
    const body = text(64 * 1024);
    let finish!: () => void;
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', body.length);
      res.write(body.subarray(0, 5000));
      res.flush();
      await new Promise<void>((resolve) => (finish = resolve));
      res.end(body.subarray(5000));
    });
    const head = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${server.url}/`, { headers: GZIP }, resolve);
      req.on('error', reject);
      req.end();
    });
    // The head arrived while the handler still waits: nothing held it.
    expect(head.headers['content-encoding']).toBe('gzip');
    const chunks: Buffer[] = [];
    head.on('data', (c: Buffer) => {
      chunks.push(c);
      if (chunks.length === 1) finish();
    });
    await once(head, 'end');
    expect(decode(Buffer.concat(chunks), 'gzip').equals(body)).toBe(true);
  });

  it('a body compressed whole at end() gets the Content-Length of the compressed bytes', async () => {
    const body = text(64 * 1024);
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', body.length);
      res.end(body);
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers['content-length']).toBe(String(reply.body.length));
    expect(reply.body.length).toBeLessThan(body.length);
  });

  it('Accept-Ranges is dropped: byte ranges of the encoded body are not the handler’s', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('accept-ranges', 'bytes');
      res.end(text(4096));
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers['accept-ranges']).toBeUndefined();
  });

  it('Accept-Ranges stays on an unencoded response', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('accept-ranges', 'bytes');
      res.end(text(4096));
    });
    const reply = await h1Get(server.url, '/');
    expect(reply.headers['accept-ranges']).toBe('bytes');
  });
});

describe('ETag', () => {
  /** Answers 304 when If-None-Match names its ETag, and records what it saw. */
  function tagged(etag: string) {
    const seen: (string | undefined)[] = [];
    const handler: Handler = async (req, res) => {
      const inm = req.headers['if-none-match'];
      seen.push(inm);
      res.setHeader('content-type', 'text/plain');
      res.setHeader('etag', etag);
      if (inm === etag) {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.end(text(4096));
    };
    return { seen, handler };
  }

  it('a strong ETag "abc" becomes "abc-gzip" on the gzip-encoded response', async () => {
    const server = await behind(tagged('"abc"').handler);
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.etag).toBe('"abc-gzip"');
  });

  it('a strong ETag is left alone on an unencoded response', async () => {
    const server = await behind(tagged('"abc"').handler);
    const reply = await h1Get(server.url, '/');
    expect(reply.headers.etag).toBe('"abc"');
  });

  it('a weak ETag is left alone on the encoded response', async () => {
    const server = await behind(tagged('W/"abc"').handler);
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.etag).toBe('W/"abc"');
  });

  it('If-None-Match: "abc-gzip" reaches the handler as "abc", which answers 304', async () => {
    const t = tagged('"abc"');
    const server = await behind(t.handler);
    const reply = await h1Get(server.url, '/', { headers: { ...GZIP, 'if-none-match': '"abc-gzip"' } });
    expect(t.seen).toEqual(['"abc"']);
    expect(reply.status).toBe(304);
    expect(reply.body.length).toBe(0);
  });

  it('the 304 carries the ETag the encoded 200 had, "abc-gzip" (RFC 9110 §15.4.5)', async () => {
    const server = await behind(tagged('"abc"').handler);
    const reply = await h1Get(server.url, '/', { headers: { ...GZIP, 'if-none-match': '"abc-gzip"' } });
    expect(reply.status).toBe(304);
    expect(reply.headers.etag).toBe('"abc-gzip"');
  });

  it('every tag of an If-None-Match list is stripped, so the handler finds its own among them', async () => {
    const t = tagged('"abc"');
    const server = await behind(t.handler);
    const reply = await h1Get(server.url, '/', { headers: { ...GZIP, 'if-none-match': '"abc-gzip", "old,1-gzip", W/"weak-gzip"' } });
    expect(t.seen).toEqual(['"abc", "old,1", W/"weak-gzip"']);
    expect(reply.status).toBe(200);
  });

  it('If-None-Match naming another encoding’s tag is passed on unchanged', async () => {
    const t = tagged('"abc"');
    const server = await behind(t.handler);
    const reply = await h1Get(server.url, '/', { headers: { ...GZIP, 'if-none-match': '"abc-br"' } });
    expect(t.seen).toEqual(['"abc-br"']);
    expect(reply.status).toBe(200);
  });
});

describe('HEAD', () => {
  /** The same handler for GET and HEAD, as most are: it declares the length and writes the body. */
  const resource: Handler = async (_req, res) => {
    const body = text(4096);
    res.setHeader('content-type', 'text/plain');
    res.setHeader('content-length', body.length);
    res.end(body);
  };

  it('a HEAD whose Content-Length says the body is long enough gets Content-Encoding, and no body', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', 4096);
      res.end();
    });
    const reply = await h1Get(server.url, '/', { method: 'HEAD', headers: GZIP });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.vary).toBe('Accept-Encoding');
    expect(reply.body.length).toBe(0);
  });

  it('a HEAD answered by the GET handler has the GET’s Content-Encoding and Vary', async () => {
    const server = await behind(resource);
    const get = await h1Get(server.url, '/', { headers: GZIP });
    const head = await h1Get(server.url, '/', { method: 'HEAD', headers: GZIP });
    expect(get.headers['content-encoding']).toBe('gzip');
    expect(head.headers['content-encoding']).toBe(get.headers['content-encoding']);
    expect(head.headers.vary).toBe(get.headers.vary);
    expect(head.body.length).toBe(0);
  });

  it('a HEAD answered by a handler that writes its body with end(body), no Content-Length, has the GET’s Content-Encoding', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(text(4096));
    });
    const get = await h1Get(server.url, '/', { headers: GZIP });
    const head = await h1Get(server.url, '/', { method: 'HEAD', headers: GZIP });
    expect(get.headers['content-encoding']).toBe('gzip');
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.body.length).toBe(0);
  });

  it('a HEAD whose Content-Length says the body is short gets no Content-Encoding and keeps its length', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.setHeader('content-length', 100);
      res.end();
    });
    const reply = await h1Get(server.url, '/', { method: 'HEAD', headers: GZIP });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers['content-length']).toBe('100');
  });
});

describe('a handler that throws', () => {
  it('turns encoding off: the error page arrives unencoded and readable, with the HttpError’s status', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.write(text(100));
      throw new HttpError(422, 'the form is missing a name');
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.status).toBe(422);
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.toString()).toBe('the form is missing a name\n');
  });

  it('turns encoding off for a thrown non-HttpError too: a readable 500', async () => {
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/html');
      throw new Error('database down');
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.status).toBe(500);
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.toString()).toBe('Internal Server Error\n');
  });
});

describe('buffering beyond Caddy', () => {
  it('100 writes of 10 bytes without Content-Length are compressed (Caddy decides on the first write and never would)', async () => {
    const body = text(1000);
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      for (let i = 0; i < 100; i++) res.write(body.subarray(i * 10, i * 10 + 10));
      res.end();
    });
    const reply = await h1Get(server.url, '/', { headers: GZIP });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(decode(reply.body, 'gzip').equals(body)).toBe(true);
  });
});
