import { EventEmitter, once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientGoneError, type FetchListener, type FerryRequest, HttpError, route, staticResponse, toFetch } from '@ferry/core';
import { duplex, switchProtocols } from '@ferry/duplex';
import { encode } from '@ferry/encode';
import { type EventStream, sse, streamEvents } from '@ferry/sse';

/** Ferry's routes as a fetch handler, called with WHATWG Requests: no socket anywhere. */
const opened: FetchListener[] = [];
afterEach(async () => {
  for (const f of opened.splice(0)) await f.close({ gracePeriod: 0 });
});

function ferry(input: Parameters<typeof toFetch>[0]): FetchListener {
  const f = toFetch(input);
  opened.push(f);
  return f;
}

/** A Request body that arrives in `parts`, one chunk per read. */
function streamed(parts: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) c.enqueue(enc.encode(parts[i++]));
      else c.close();
    },
  });
}

function post(url: string, body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}): Request {
  return new Request(url, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

describe('toFetch: Ferry routes as (Request) => Promise<Response>', () => {
  it('serves routes with params, static responses, cookies as separate fields, and the empty 200', async () => {
    const f = ferry({
      logger: false,
      routes: [
        { match: [{ path: ['/hello'] }], handle: [staticResponse({ statusCode: 201, body: 'hello from ferry' })] },
        route('GET', '/users/:id', async (req, res) => {
          res.setCookie('id', req.params.id);
          res.setCookie('theme', 'dark');
          res.end(`user ${req.params.id} on ${req.scheme} ${req.host}`);
        }),
      ],
    });
    const hello = await f(new Request('http://ferry.test/hello'));
    expect([hello.status, hello.statusText, await hello.text()]).toEqual([201, 'Created', 'hello from ferry']);
    const user = await f(new Request('https://ferry.test/users/a%2Fb'));
    expect(await user.text()).toBe('user a/b on https ferry.test');
    // Two Set-Cookie fields, each its own; Secure because the Request's URL is https.
    expect(user.headers.getSetCookie()).toEqual([
      'id=a%2Fb; Path=/; HttpOnly; Secure; SameSite=Lax',
      'theme=dark; Path=/; HttpOnly; Secure; SameSite=Lax',
    ]);
    expect(user.headers.get('content-length')).toBe(String('user a/b on https ferry.test'.length));
    const none = await f(new Request('http://ferry.test/none'));
    expect([none.status, await none.text()]).toEqual([200, '']);
  });

  it('compresses through encode: the Response body is gzip that node:zlib decodes', async () => {
    const big = JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ i, name: `item ${i}` })));
    const f = ferry({
      logger: false,
      handler: [encode({ minimumLength: 1 }), staticResponse({ body: big, headers: { 'content-type': ['application/json'] } })],
    });
    const r = await f(new Request('http://ferry.test/', { headers: { 'accept-encoding': 'gzip' } }));
    expect(r.headers.get('content-encoding')).toBe('gzip');
    const bytes = Buffer.from(await r.arrayBuffer());
    expect(bytes.length).toBeLessThan(big.length);
    expect(gunzipSync(bytes).toString()).toBe(big);
  });

  it('reads streamed Request bodies with req.json() and req.text(), and holds them to their Content-Length', async () => {
    const f = ferry({
      logger: false,
      routes: [
        route('POST', '/json', async (req, res) => {
          res.end(JSON.stringify({ got: await req.json(), te: req.headers['transfer-encoding'] ?? null }));
        }),
        route('POST', '/text', async (req, res) => {
          res.end(`text: ${await req.text()}`);
        }),
      ],
    });
    const json = await f(post('http://ferry.test/json', streamed(['{"na', 'me":', '"ferry"}']), { 'content-type': 'application/json' }));
    // A body of unknown length is chunked, as an HTTP/1.1 parser would have it.
    expect(await json.json()).toEqual({ got: { name: 'ferry' }, te: 'chunked' });
    const text = await f(post('http://ferry.test/text', streamed(['a', 'b', 'c']), { 'content-type': 'text/plain' }));
    expect(await text.text()).toBe('text: abc');
    // A body longer or shorter than it says: a 400, as Node's parser gives.
    const long = await f(post('http://ferry.test/text', streamed(['abcdef']), { 'content-length': '3' }));
    expect(long.status).toBe(400);
    const short = await f(post('http://ferry.test/text', streamed(['a']), { 'content-length': '3' }));
    expect(short.status).toBe(400);
    // A Content-Length that is no number: refused before any route runs.
    const bad = await f(post('http://ferry.test/text', 'abc', { 'content-length': '3, 3' }));
    expect([bad.status, await bad.text()]).toEqual([400, 'invalid Content-Length\n']);
  });

  it('sends errors to the error routes, with their status in the Response', async () => {
    const f = ferry({
      logger: false,
      routes: [
        route('/teapot', async () => {
          throw new HttpError(418, 'short and stout');
        }),
      ],
      errors: {
        routes: [{ handle: [staticResponse({ statusCode: 599, body: 'error route: {http.error.status_code} {http.error.message}' })] }],
      },
    });
    const r = await f(new Request('http://ferry.test/teapot'));
    expect([r.status, await r.text()]).toEqual([599, 'error route: 418 short and stout']);
  });

  it('runs onHead callbacks once before the head, and gives HEAD, 204 and 304 a null body', async () => {
    let runs = 0;
    const f = ferry({
      logger: false,
      routes: [
        route('/head', async (_req, res) => {
          res.onHead(() => {
            runs++;
            res.setHeader('x-status-seen', String(res.statusCode));
            res.statusCode = 202;
          });
          res.statusCode = 200;
          res.write('one ');
          res.end('two');
        }),
        route('/empty', async (_req, res) => {
          res.statusCode = 204;
          res.end('dropped');
        }),
      ],
    });
    const r = await f(new Request('http://ferry.test/head'));
    expect([r.status, r.headers.get('x-status-seen'), await r.text(), runs]).toEqual([202, '200', 'one two', 1]);
    const head = await f(new Request('http://ferry.test/head', { method: 'HEAD' }));
    expect([head.status, head.body]).toEqual([202, null]);
    const empty = await f(new Request('http://ferry.test/empty'));
    expect([empty.status, empty.body]).toEqual([204, null]);
  });

  it('streams an SSE route event by event, and aborting the Request aborts the handler', async () => {
    let stream!: EventStream;
    let handlerSignal!: AbortSignal;
    const opened = new EventEmitter();
    const f = ferry({
      logger: false,
      routes: [
        route(
          '/events',
          streamEvents(async (s, req: FerryRequest) => {
            stream = s;
            handlerSignal = req.signal;
            opened.emit('open');
            await s.closed;
          }),
        ),
      ],
    });
    const ac = new AbortController();
    const open = once(opened, 'open');
    const r = await f(new Request('http://ferry.test/events', { signal: ac.signal }));
    await open;
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const next = async () => {
      let text = '';
      // One event ends with a blank line; a bounded number of reads to get there.
      for (let i = 0; i < 10 && !text.endsWith('\n\n'); i++) text += (await reader.read()).value ?? '';
      return text;
    };
    for (const n of [1, 2, 3]) {
      stream.send({ id: String(n), data: `event ${n}` });
      expect(await next()).toContain(`id: ${n}\ndata: event ${n}\n\n`);
    }
    const closed = stream.closed;
    ac.abort();
    expect(await closed).toBe('client-gone');
    expect(handlerSignal.aborted).toBe(true);
    expect(handlerSignal.reason).toBeInstanceOf(ClientGoneError);
    // The host aborted (its client left): the body just ends, with nothing for the host to log.
    expect(await reader.read()).toEqual({ value: undefined, done: true });
  });

  it('a handler failing after its head went out errors the Response body: a cut body never reads as whole', async () => {
    const f = ferry({
      logger: false,
      handler: async (_req, res) => {
        res.setHeader('content-type', 'text/plain');
        await new Promise<void>((resolve) => res.write('the first part', () => resolve()));
        throw new Error('failed mid-body');
      },
    });
    const r = await f(new Request('http://ferry.test/'));
    expect(r.status).toBe(200);
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe('the first part');
    await expect(reader.read()).rejects.toBeInstanceOf(Error);
  });

  it('counts each socketless SSE subscriber as a connection of its own', async () => {
    const f = ferry({ logger: false, handler: [sse({ topic: 'news', maxSubscriptionsPerConnection: 1 })] });
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const responses = await Promise.all(controllers.map((ac) => f(new Request('http://ferry.test/', { signal: ac.signal }))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    for (const ac of controllers) ac.abort();
  });

  it('cancelling the Response body is the client leaving', async () => {
    const gone = new EventEmitter();
    const f = ferry({
      logger: false,
      handler: async (req, res) => {
        req.signal.addEventListener('abort', () => gone.emit('gone', req.signal.reason));
        res.write('first');
        await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve()));
      },
    });
    const r = await f(new Request('http://ferry.test/'));
    const reader = r.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first');
    const left = once(gone, 'gone');
    await reader.cancel();
    expect((await left)[0]).toBeInstanceOf(ClientGoneError);
  });

  it('keeps a producer back while the Response body is not read (backpressure)', async () => {
    const CHUNK = 64 * 1024;
    const TOTAL = 10 * 1024 * 1024;
    let written = 0;
    const stalls = new EventEmitter();
    const f = ferry({
      logger: false,
      handler: async (_req, res) => {
        for (let i = 0; written < TOTAL; i++) {
          const ok = res.write(Buffer.alloc(CHUNK, i % 256));
          written += CHUNK;
          if (!ok) {
            stalls.emit('stall', written);
            await once(res as unknown as EventEmitter, 'drain');
          }
        }
        res.end();
      },
    });
    const firstStall = once(stalls, 'stall');
    const r = await f(new Request('http://ferry.test/'));
    await firstStall;
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(first.value!.byteLength).toBe(CHUNK);
    // The producer wrote what the room freed by one read allows, and waits again.
    const [atStall] = (await once(stalls, 'stall')) as [number];
    expect(atStall).toBeLessThanOrEqual(3 * CHUNK);
    expect(written).toBe(atStall);
    // All of it arrives, in order, once read.
    let total = first.value!.byteLength;
    let index = 1;
    for (let i = 0; i < 1000; i++) {
      const { done, value } = await reader.read();
      if (done) break;
      expect(value[0]).toBe(Math.floor(total / CHUNK) % 256);
      total += value.byteLength;
      index++;
    }
    expect([total, index]).toEqual([TOTAL, TOTAL / CHUNK]);
  });

  it('answers a route that needs full duplex or a takeover with a clear error, never a hang', async () => {
    const errors: unknown[] = [];
    const logger = {
      error: (o: { err?: unknown }) => errors.push(o.err),
      warn() {},
      info() {},
      debug() {},
      trace() {},
      fatal() {},
      child: () => logger,
      level: 'error',
    };
    const f = ferry({
      logger: logger as never,
      routes: [
        route(
          '/echo',
          duplex(async ({ readable }) => readable),
        ),
        route('/ws', async (_req, res) => {
          switchProtocols(res, 'websocket');
        }),
      ],
    });
    const echo = await f(post('http://ferry.test/echo', streamed(['ping'])));
    expect(echo.status).toBe(501);
    expect(String(errors.at(-1))).toMatch(/full duplex is not available through toFetch/);
    const ws = await f(
      new Request('http://ferry.test/ws', {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      }),
    );
    expect(ws.status).toBe(500);
    expect(String(errors.at(-1))).toMatch(/toFetch/);
    expect(() => toFetch({ enableFullDuplex: true })).toThrow(/"enableFullDuplex" does not apply/);
    expect(() => toFetch({ listen: ':80' } as never)).toThrow(/"listen" does not apply/);
  });

  it('applies Ferry’s path handling to hostile URLs and keeps a __proto__ field from polluting anything', async () => {
    const seen: Record<string, unknown>[] = [];
    const f = ferry({
      logger: false,
      routes: [
        route('/files/:name', async (req, res) => {
          seen.push({ route: 'files', name: req.params.name, path: req.path, rawPath: req.rawPath });
          res.end();
        }),
        {
          handle: [
            async (req, res) => {
              seen.push({ route: 'any', url: req.url, path: req.path, host: req.host, headers: req.headers, raw: req.raw.rawHeaders });
              res.end();
            },
          ],
        },
      ],
    });
    // WHATWG URL parsing resolves %2e%2e before Ferry sees the target: nothing above the root.
    await f(new Request('http://ferry.test/files/%2e%2e/%2e%2e/etc/passwd'));
    expect(seen.pop()).toMatchObject({ route: 'any', url: '/etc/passwd', path: '/etc/passwd' });
    // An encoded slash stays inside one segment: the param is "a/b", one file name.
    await f(new Request('http://ferry.test/files/a%2Fb'));
    expect(seen.pop()).toEqual({ route: 'files', name: 'a/b', path: '/files/a/b', rawPath: '/files/a%2Fb' });
    // A path that starts with // names no other host.
    await f(new Request('http://ferry.test//evil.example/x'));
    expect(seen.pop()).toMatchObject({ route: 'any', host: 'ferry.test' });
    const h = new Headers();
    h.append('__proto__', '{"polluted":true}');
    h.append('constructor', 'x');
    await f(new Request('http://ferry.test/p', { headers: h }));
    const p = seen.pop()!;
    const headers = p.headers as Record<string, unknown>;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.hasOwn(headers, '__proto__')).toBe(false);
    expect(headers.constructor).toBe('x');
    expect((p.raw as string[]).slice(0, 2)).toEqual(['__proto__', '{"polluted":true}']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('mounts inside a Hono route, served through Hono’s socketless app.request', async () => {
    const ferryFetch = ferry({
      logger: false,
      routes: [
        route('GET', '/ferry/:name', async (req, res) => {
          res.end(`ferry saw ${req.url} (${req.params.name})`);
        }),
      ],
    });
    const app = new Hono();
    app.get('/ferry/*', (c) => ferryFetch(c.req.raw));
    app.get('/hono', (c) => c.text('hono'));
    const r = await app.request('/ferry/x?y=1');
    expect([r.status, await r.text()]).toEqual([200, 'ferry saw /ferry/x?y=1 (x)']);
    expect(await (await app.request('/hono')).text()).toBe('hono');
  });
});
