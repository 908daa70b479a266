/**
 * `res.onHead` with encode in front: the handler's callbacks run before encode decides (so the
 * decision sees what they set), callbacks registered in front of encode run after it (so they
 * see its Content-Encoding), on every send path, over HTTP/1.1 and h2; and a callback that
 * throws reaches the error routes without garbling the error page or crashing the process.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { HttpError, headers, type Handler, type Middleware, type ResponseWriter, type ServerOptions } from '@ferry/core';
import { collect } from '@ferry/test-kit/streams';
import { escapedErrors } from '@ferry/test-kit/lifecycle';
import { encode } from '../src/index.js';
import { decode, defer, deferred, open, serve, text, type Protocol } from './helpers/net.js';

const PROTOCOLS: Protocol[] = ['HTTP/1.1', 'h2'];
const GZIP = { 'accept-encoding': 'gzip' };
const BODY = text(4096);
const gzipOnly = () => encode({ encodings: { gzip: {} } });
const errorRoutes: ServerOptions['errors'] = {
  routes: [
    {
      handle: [
        async (req, res) => {
          res.statusCode = req.error!.status;
          res.setHeader('content-type', 'text/plain');
          res.end(`error page: ${req.error!.message}`);
        },
      ],
    },
  ],
};

const escaped = escapedErrors();

/** The whole response, its body decoded as its Content-Encoding says. */
async function get(protocol: Protocol, server: Awaited<ReturnType<typeof serve>>, path = '/') {
  const r = await open(protocol, server, path, GZIP);
  const raw = await collect(r.body);
  return { status: r.status, headers: r.headers, body: decode(raw, r.headers['content-encoding'] as string | undefined).toString() };
}

/** Ways a handler sends a 4 KiB body; each sends the head by a different call. */
const SENDS: Record<string, (res: ResponseWriter) => void> = {
  'end with the body': (res) => res.end(BODY),
  'writes, then end': (res) => {
    for (let i = 0; i < BODY.length; i += 1024) res.write(BODY.subarray(i, i + 1024));
    res.end();
  },
  'writeHead, then end': (res) => {
    res.writeHead(200, { 'x-from-writehead': 'yes' });
    res.end(BODY);
  },
  'write, flush, then end': (res) => {
    res.write(BODY.subarray(0, 100));
    res.flush();
    res.end(BODY.subarray(100));
  },
  'flushHeaders, then end': (res) => {
    res.flushHeaders();
    res.end(BODY);
  },
};

describe.each(PROTOCOLS)('onHead behind encode over %s', (protocol) => {
  for (const [name, send] of Object.entries(SENDS)) {
    it(`${name}: encode's decision sees the Content-Type the handler's callback set, and compresses`, async () => {
      let calls = 0;
      const handler: Handler = async (_req, res) => {
        res.setHeader('content-type', 'application/octet-stream'); // not compressed by default
        res.onHead(() => {
          calls++;
          res.setHeader('content-type', 'text/html; charset=utf-8');
        });
        send(res);
      };
      const server = await serve({ secure: protocol === 'h2', handler: [gzipOnly(), handler] });
      const r = await get(protocol, server);
      expect(r.headers['content-encoding']).toBe('gzip');
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.body).toBe(BODY.toString());
      expect(calls).toBe(1);
    });

    it(`${name}: a callback that sets Cache-Control: no-transform keeps the body as it is`, async () => {
      const handler: Handler = async (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.onHead(() => res.setHeader('cache-control', 'no-transform'));
        send(res);
      };
      const server = await serve({ secure: protocol === 'h2', handler: [gzipOnly(), handler] });
      const r = await get(protocol, server);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.body).toBe(BODY.toString());
    });

    it(`${name}: a callback registered in front of encode runs after its decision and sees Content-Encoding`, async () => {
      const front: Middleware = async (req, res, next) => {
        res.onHead(() => res.setHeader('x-front-saw', String(res.getHeader('content-encoding') ?? 'none')));
        await next(req, res);
      };
      const handler: Handler = async (_req, res) => {
        res.setHeader('content-type', 'text/html');
        send(res);
      };
      const server = await serve({ secure: protocol === 'h2', handler: [front, gzipOnly(), handler] });
      const r = await get(protocol, server);
      expect(r.headers['x-front-saw']).toBe('gzip');
      expect(r.body).toBe(BODY.toString());
    });
  }

  it('deferred headers behind encode set the Content-Type encode decides on; in front of it they see Content-Encoding', async () => {
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        headers({ response: { require: { headers: { 'Content-Encoding': ['gzip'] } }, set: { 'X-Compressed': ['yes'] } } }),
        gzipOnly(),
        headers({ response: { deferred: true, set: { 'Content-Type': ['text/css'] } } }),
        async (_req, res) => {
          res.setHeader('content-type', 'application/octet-stream');
          res.end(BODY);
        },
      ],
    });
    const r = await get(protocol, server);
    expect(r.headers['content-type']).toBe('text/css');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['x-compressed']).toBe('yes');
  });

  it("an event stream's head goes out at once with the callback's field", async () => {
    const release = deferred();
    defer(() => release.resolve());
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        gzipOnly(),
        async (_req, res) => {
          res.onHead(() => res.setHeader('x-head', 'ran'));
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          await release.promise;
          res.end('data: bye\n\n');
        },
      ],
    });
    const r = await open(protocol, server, '/', GZIP);
    expect(r.headers['x-head']).toBe('ran');
    release.resolve();
    await collect(r.body);
  });

  it('a handler callback that throws reaches the error routes, and the error page is not compressed', async () => {
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        gzipOnly(),
        async (_req, res) => {
          res.setHeader('content-type', 'text/html');
          res.onHead(() => {
            throw new HttpError(422, 'no head for you');
          });
          res.end(BODY);
        },
      ],
      errors: errorRoutes,
    });
    const r = await get(protocol, server);
    expect([r.status, r.headers['content-encoding'], r.body]).toEqual([422, undefined, 'error page: no head for you']);
  });

  it('a handler that throws after encode decided to compress gets an error page without Content-Encoding', async () => {
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        gzipOnly(),
        async (_req, res) => {
          res.setHeader('content-type', 'text/html');
          res.write(BODY); // past minimum_length: encode decides, the head waits for compressed bytes
          throw new HttpError(500, 'broke mid-body');
        },
      ],
      errors: errorRoutes,
    });
    const r = await get(protocol, server);
    expect([r.status, r.headers['content-encoding'], r.body]).toEqual([500, undefined, 'error page: broke mid-body']);
  });

  it('under pipeline(readable, res), a handler callback that throws rejects the pipeline with its error; nothing escapes', async () => {
    const outcome = deferred<unknown>();
    const server = await serve({
      secure: protocol === 'h2',
      handler: [
        gzipOnly(),
        async (_req, res) => {
          res.setHeader('content-type', 'text/html');
          res.onHead(() => {
            throw new Error('refused under pipeline');
          });
          outcome.resolve(
            await pipeline(Readable.from([BODY, BODY]), res).then(
              () => undefined,
              (err: unknown) => err,
            ),
          );
        },
      ],
    });
    const reply = open(protocol, server, '/', GZIP).then(
      (r) =>
        collect(r.body).then(
          () => `complete ${r.status}`,
          () => 'cut',
        ),
      () => 'cut',
    );
    expect(String(await outcome.promise)).toMatch(/refused under pipeline/);
    expect(await reply).toBe('cut');
    expect(escaped).toEqual([]);
  });

  describe('a callback in front of encode that throws when encode sends the head later', () => {
    const front: Middleware = async (req, res, next) => {
      res.onHead(() => {
        if (req.path !== '/ok') throw new HttpError(409, 'front refused the head');
      });
      await next(req, res);
    };

    // end(body): compressed in one go, the head sent when the compression is done. writes past
    // minimum_length, then end: the head goes with the compressor's first output.
    for (const [name, handler] of Object.entries({
      'one-shot compression': (async (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(BODY);
      }) as Handler,
      'streamed compression': (async (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.write(BODY.subarray(0, 2048));
        res.end(BODY.subarray(2048));
      }) as Handler,
    })) {
      it(`${name}: the error reaches the error routes, nothing escapes`, async () => {
        const server = await serve({ secure: protocol === 'h2', handler: [front, gzipOnly(), handler], errors: errorRoutes });
        const r = await get(protocol, server);
        expect([r.status, r.headers['content-encoding'], r.body]).toEqual([409, undefined, 'error page: front refused the head']);
        expect(escaped).toEqual([]);
      });
    }

    it('a handler still streaming sees the response cut, nothing escapes, and the server keeps serving', async () => {
      const cut = deferred<boolean>();
      const server = await serve({
        secure: protocol === 'h2',
        handler: [
          front,
          gzipOnly(),
          async (req, res) => {
            if (req.path === '/ok') return void res.end('fine');
            res.setHeader('content-type', 'text/html');
            res.write(BODY);
            // A plain listener: events.once would add an 'error' listener, and the head error
            // would then be that listener's (see the pipeline test above).
            await new Promise((resolve) => res.on('close', resolve));
            cut.resolve(res.writableFinished);
            res.write('more'); // into a stopped writer: dropped, no throw
          },
        ],
        errors: errorRoutes,
      });
      const outcome = await open(protocol, server, '/', GZIP).then(
        (r) =>
          collect(r.body).then(
            () => 'complete',
            () => 'cut',
          ),
        () => 'cut',
      );
      expect(outcome).toBe('cut');
      expect(await cut.promise).toBe(false);
      expect(escaped).toEqual([]);
      expect((await get(protocol, server, '/ok')).body).toBe('fine');
    });
  });
});
