/**
 * `res.onHead(fn)`: callbacks that run once, just before the status line and header fields go
 * out, whichever call sends them, over HTTP/1.1 and h2c (Ferry's two writers), with real clients.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { defer, deferred, escapedErrors } from '@ferry/test-kit/lifecycle';
import { h1Request } from '@ferry/test-kit/clients';
import { collect } from '@ferry/test-kit/streams';
import {
  HttpError,
  ResponseWriterWrapper,
  headers,
  staticResponse,
  subroute,
  type Handler,
  type Middleware,
  type ResponseWriter,
  type ServerOptions,
} from '../src/index.js';
import { useServers } from './helpers/http.js';

const serve = useServers();

type Protocol = 'HTTP/1.1' | 'h2c';
const PROTOCOLS: Protocol[] = ['HTTP/1.1', 'h2c'];

interface Opened {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

/** Starts a request and resolves at its response head (the 1xx skipped), its body still to read. */
async function open(protocol: Protocol, url: string, path = '/', method = 'GET'): Promise<Opened> {
  if (protocol === 'HTTP/1.1') {
    const req = h1Request(url, { path, method });
    const [res] = (await once(req, 'response')) as [Readable & { statusCode: number; headers: IncomingHttpHeaders }];
    return { status: res.statusCode, headers: res.headers, body: res };
  }
  const session = h2connect(url);
  session.on('error', () => {});
  defer(() => session.destroy());
  const stream = session.request({ ':path': path, ':method': method });
  stream.on('error', () => {});
  const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  return { status: Number(head[':status']), headers: head, body: stream };
}

/** One whole exchange: status, header fields and body text. */
async function fetchOver(protocol: Protocol, url: string, path = '/', method = 'GET') {
  const r = await open(protocol, url, path, method);
  return { status: r.status, headers: r.headers, body: (await collect(r.body)).toString() };
}

function start(protocol: Protocol, options: ServerOptions) {
  return serve({ protocols: protocol === 'h2c' ? ['h1', 'h2c'] : ['h1'], ...options });
}

/** A handler that counts its head callback's runs and stamps the count on the head; `send` sends. */
function counting(send: (res: ResponseWriter) => unknown) {
  const state = { calls: 0 };
  const handler: Handler = async (_req, res) => {
    res.onHead(() => {
      state.calls++;
      res.setHeader('x-head', String(state.calls));
    });
    await send(res);
  };
  return { state, handler };
}

describe.each(PROTOCOLS)('onHead over %s: every call that sends the head runs the callbacks once', (protocol) => {
  const paths: Record<string, (res: ResponseWriter) => void> = {
    'writeHead then end': (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('body');
    },
    'the first write': (res) => {
      res.write('bo');
      res.write('d');
      res.end('y');
    },
    'end with a body': (res) => res.end('body'),
    'end without a body': (res) => res.end(),
  };
  for (const [name, send] of Object.entries(paths)) {
    it(`${name}: the callback ran once and its field is on the head`, async () => {
      const { state, handler } = counting(send);
      const server = await start(protocol, { handler });
      const r = await fetchOver(protocol, server.url);
      expect(r.status).toBe(200);
      expect(r.headers['x-head']).toBe('1');
      expect(state.calls).toBe(1);
    });
  }

  for (const call of ['flushHeaders', 'flush'] as const) {
    it(`${call}: the head the client gets before any body already carries the callback's field`, async () => {
      const release = deferred();
      defer(() => release.resolve());
      const { state, handler } = counting(async (res) => {
        res[call]();
        await release.promise;
        res.end('late body');
      });
      const server = await start(protocol, { handler });
      const r = await open(protocol, server.url);
      // The body is held until the head was seen: the head went out at the flush.
      expect(r.headers['x-head']).toBe('1');
      release.resolve();
      expect((await collect(r.body)).toString()).toBe('late body');
      expect(state.calls).toBe(1);
    });
  }

  it('a 103 from writeInformational does not run the callbacks; the final head does', async () => {
    const { state, handler } = counting((res) => {
      res.writeInformational(103, { link: '</a.css>; rel=preload; as=style' });
      res.setHeader('x-calls-after-hints', String(state.calls));
      res.end('page');
    });
    const server = await start(protocol, { handler });
    const r = await fetchOver(protocol, server.url);
    expect(r.headers['x-calls-after-hints']).toBe('0');
    expect(r.headers['x-head']).toBe('1');
  });

  it("a callback sees writeHead's fields and may change the status and remove or set fields", async () => {
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.onHead(() => {
          res.setHeader('x-seen', `${res.statusCode} ${String(res.getHeader('x-from-writehead'))}`);
          res.removeHeader('x-from-writehead');
          res.statusCode = 201;
        });
        res.writeHead(200, { 'x-from-writehead': 'yes' });
        res.end('made');
      },
    });
    const r = await fetchOver(protocol, server.url);
    expect(r.status).toBe(201);
    expect(r.headers['x-seen']).toBe('200 yes');
    expect(r.headers['x-from-writehead']).toBeUndefined();
    expect(r.body).toBe('made');
  });

  it('a raw array given to writeHead reaches the callbacks with its duplicates', async () => {
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.onHead(() => res.setHeader('x-seen', ([] as string[]).concat(res.getHeader('x-dup') as string[]).join('|')));
        res.writeHead(200, ['x-dup', 'a', 'x-dup', 'b']);
        res.end();
      },
    });
    expect((await fetchOver(protocol, server.url)).headers['x-seen']).toBe('a|b');
  });

  it('the most recently registered callback runs first: a middleware sees what the handler after it decided', async () => {
    const outer: Middleware = async (req, res, next) => {
      res.onHead(() => {
        res.appendHeader('x-order', 'outer');
        res.setHeader('x-outer-saw-status', String(res.statusCode));
      });
      await next(req, res);
    };
    const server = await start(protocol, {
      handler: [
        outer,
        async (_req, res) => {
          res.onHead(() => {
            res.appendHeader('x-order', 'inner');
            res.statusCode = 202;
          });
          res.end();
        },
      ],
    });
    const r = await fetchOver(protocol, server.url);
    expect(r.status).toBe(202);
    expect(r.headers['x-order']).toBe('inner, outer');
    expect(r.headers['x-outer-saw-status']).toBe('202');
  });

  it('a callback registered by a callback runs before the head too', async () => {
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.onHead(() => res.onHead(() => res.setHeader('x-nested', 'ran')));
        res.end();
      },
    });
    expect((await fetchOver(protocol, server.url)).headers['x-nested']).toBe('ran');
  });

  it('registering after the head was sent throws a clear error', async () => {
    const thrown = deferred<unknown>();
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.end('done');
        try {
          res.onHead(() => {});
          thrown.resolve(undefined);
        } catch (err) {
          thrown.resolve(err);
        }
      },
    });
    await fetchOver(protocol, server.url);
    expect(String(await thrown.promise)).toMatch(/onHead after the response head was sent/);
  });

  it('a HEAD request runs the callbacks; its head carries their field and no body follows', async () => {
    const { state, handler } = counting((res) => res.end('the GET body'));
    const server = await start(protocol, { handler });
    const r = await fetchOver(protocol, server.url, '/', 'HEAD');
    expect(r.headers['x-head']).toBe('1');
    expect(r.body).toBe('');
    expect(state.calls).toBe(1);
  });

  it('a 204 runs the callbacks, and a callback that turns a 200 into a 304 sends a bodiless 304', async () => {
    const server = await start(protocol, {
      handler: async (req, res) => {
        res.onHead(() => {
          res.setHeader('x-head', 'ran');
          if (req.path === '/revalidated') res.statusCode = 304;
        });
        if (req.path === '/none') res.statusCode = 204;
        res.end();
      },
    });
    const none = await fetchOver(protocol, server.url, '/none');
    expect([none.status, none.headers['x-head'], none.body]).toEqual([204, 'ran', '']);
    const revalidated = await fetchOver(protocol, server.url, '/revalidated');
    expect([revalidated.status, revalidated.headers['x-head'], revalidated.body]).toEqual([304, 'ran', '']);
  });

  it('through a ResponseWriterWrapper: the callback runs at the head of the writer underneath', async () => {
    const { state, handler } = counting((res) => res.end('wrapped'));
    const server = await start(protocol, { handler: [(req, res, next) => next(req, new ResponseWriterWrapper(res)), handler] });
    const r = await fetchOver(protocol, server.url);
    expect([r.headers['x-head'], r.body, state.calls]).toEqual(['1', 'wrapped', 1]);
  });

  it('pipeline(readable, res): the first chunk sends the head, with the callback applied', async () => {
    const { state, handler } = counting((res) => pipeline(Readable.from(['a', 'b', 'c']), res));
    const server = await start(protocol, { handler });
    const r = await fetchOver(protocol, server.url);
    expect([r.headers['x-head'], r.body, state.calls]).toEqual(['1', 'abc', 1]);
  });
});

const escaped = escapedErrors();

describe.each(PROTOCOLS)('onHead over %s: errors', (protocol) => {
  const errorRoutes = {
    routes: [{ handle: [staticResponse({ statusCode: '{http.error.status_code}', body: 'error page: {http.error.message}' })] }],
  };

  it('a callback that throws stops the head: the error reaches the error routes, and the rest of the callbacks do not run', async () => {
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.onHead(() => res.setHeader('x-registered-first', 'ran'));
        res.onHead(() => {
          throw new HttpError(409, 'refused in onHead');
        });
        res.setHeader('content-type', 'application/json');
        res.end('{"the":"body"}');
      },
      errors: errorRoutes,
    });
    const r = await fetchOver(protocol, server.url);
    expect(r.status).toBe(409);
    expect(r.body).toBe('error page: refused in onHead');
    expect(r.headers['x-registered-first']).toBeUndefined();
  });

  it('the error response after a throwing callback in a bodiless end() is framed by its own body', async () => {
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.onHead(() => {
          throw new HttpError(400, 'bad head');
        });
        res.end();
      },
      errors: {
        routes: [
          {
            handle: [
              async (req, res) => {
                res.statusCode = req.error!.status;
                res.write('streamed ');
                res.end('error page');
              },
            ],
          },
        ],
      },
    });
    const r = await fetchOver(protocol, server.url);
    expect([r.status, r.body]).toEqual([400, 'streamed error page']);
  });

  it('without error routes a throwing callback gives the plain 500 and the server keeps serving', async () => {
    let fail = true;
    const server = await start(protocol, {
      handler: async (_req, res) => {
        res.onHead(() => {
          if (fail) throw new Error('bug in a head callback');
        });
        res.end('fine');
      },
    });
    const r = await fetchOver(protocol, server.url);
    expect([r.status, r.body]).toEqual([500, 'Internal Server Error\n']);
    fail = false;
    expect((await fetchOver(protocol, server.url)).body).toBe('fine');
  });

  for (const [name, source] of Object.entries({
    'a generated stream': () => Readable.from(['a', 'b', 'c']),
    'a file': () => createReadStream(new URL(import.meta.url)),
  })) {
    it(`under pipeline(${name}, res), a throwing callback rejects the pipeline with its error; nothing escapes`, async () => {
      const outcome = deferred<{ error: unknown; destroyed: boolean }>();
      const server = await start(protocol, {
        handler: async (_req, res) => {
          res.onHead(() => {
            throw new Error('refused under pipeline');
          });
          const src = source();
          const error = await pipeline(src, res).then(
            () => undefined,
            (err: unknown) => err,
          );
          outcome.resolve({ error, destroyed: src.destroyed });
        },
      });
      const reply = open(protocol, server.url).then(
        (r) =>
          collect(r.body).then(
            () => `complete ${r.status}`,
            () => 'cut',
          ),
        () => 'cut',
      );
      const o = await outcome.promise;
      expect(String(o.error)).toMatch(/refused under pipeline/);
      expect(o.destroyed).toBe(true);
      // pipeline destroys what it was given, the response too: the client never sees a 200.
      expect(await reply).toBe('cut');
      expect(escaped).toEqual([]);
    });
  }

  it('a chain that throws before the head loses its callbacks: the error response does not get them (deferred headers included)', async () => {
    const server = await start(protocol, {
      handler: [
        headers({ response: { deferred: true, set: { 'X-Deferred': ['main chain'] } } }),
        async (_req, res) => {
          res.onHead(() => res.setHeader('x-chain', 'yes'));
          throw new HttpError(503, 'down');
        },
      ],
      errors: {
        routes: [
          {
            handle: [
              headers({ response: { deferred: true, set: { 'X-Error-Route': ['deferred'] } } }),
              staticResponse({ statusCode: '{http.error.status_code}', body: 'sorry' }),
            ],
          },
        ],
      },
    });
    const r = await fetchOver(protocol, server.url);
    expect(r.status).toBe(503);
    expect(r.headers['x-chain']).toBeUndefined();
    expect(r.headers['x-deferred']).toBeUndefined();
    expect(r.headers['x-error-route']).toBe('deferred');
  });

  it("a subroute's error routes answer without the callbacks registered inside it, with those registered before it", async () => {
    const server = await start(protocol, {
      handler: [
        headers({ response: { deferred: true, set: { 'X-Outer': ['kept'] } } }),
        subroute({
          routes: [
            {
              handle: [
                headers({ response: { deferred: true, set: { 'X-Inner': ['dropped'] } } }),
                async () => {
                  throw new HttpError(418, 'teapot');
                },
              ],
            },
          ],
          errors: { routes: [{ handle: [staticResponse({ statusCode: '{http.error.status_code}', body: 'subroute error' })] }] },
        }),
      ],
    });
    const r = await fetchOver(protocol, server.url);
    expect([r.status, r.body]).toEqual([418, 'subroute error']);
    expect(r.headers['x-outer']).toBe('kept');
    expect(r.headers['x-inner']).toBeUndefined();
  });

  it('a subroute that succeeds applies the callbacks registered inside it', async () => {
    const server = await start(protocol, {
      handler: [
        subroute({
          routes: [
            { handle: [headers({ response: { deferred: true, set: { 'X-Inner': ['applied'] } } }), staticResponse({ body: 'ok' })] },
          ],
          errors: { routes: [{ handle: [staticResponse({ body: 'never' })] }] },
        }),
      ],
    });
    const r = await fetchOver(protocol, server.url);
    expect([r.body, r.headers['x-inner']]).toEqual(['ok', 'applied']);
  });
});

describe('onHead and a taken-over connection (HTTP/1.1 Upgrade)', () => {
  /** Sends an Upgrade request on a raw socket; resolves with every byte up to the close. */
  async function upgrade(url: string): Promise<string> {
    const { hostname, port } = new URL(url);
    const socket = netConnect(Number(port), hostname);
    socket.on('error', () => {});
    defer(() => socket.destroy());
    socket.setEncoding('latin1');
    let received = '';
    socket.on('data', (d: string) => (received += d));
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    await once(socket, 'close');
    return received;
  }

  it('a hijacked response never runs the callbacks registered before, and registering after the takeover throws', async () => {
    const after = deferred<unknown>();
    let calls = 0;
    const server = await serve({
      handler: async (_req, res) => {
        res.onHead(() => {
          calls++;
          res.setHeader('x-head', 'ran');
        });
        const conn = res.hijack!();
        try {
          res.onHead(() => {});
          after.resolve(undefined);
        } catch (err) {
          after.resolve(err);
        }
        conn.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      },
    });
    const raw = await upgrade(server.url);
    expect(raw).toMatch(/^HTTP\/1\.1 101 /);
    expect(raw.toLowerCase()).not.toContain('x-head');
    expect(calls).toBe(0);
    expect(String(await after.promise)).toMatch(/hijacked/);
  });

  it('an Upgrade request answered with an ordinary response runs the callbacks', async () => {
    const server = await serve({
      handler: async (_req, res) => {
        res.onHead(() => res.setHeader('x-head', 'ran'));
        res.end('no upgrade here');
      },
    });
    const raw = await upgrade(server.url);
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.toLowerCase()).toContain('x-head: ran');
  });
});
