import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type FerryServer, fromFetch, staticResponse } from '@ferry/core';
import { encode } from '@ferry/encode';

/** A Hono app mounted with fromFetch, spoken to by real clients over 127.0.0.1. */
let server: FerryServer | undefined;
afterEach(async () => {
  await server?.close({ gracePeriod: 0 });
  server = undefined;
});

let aborted: Promise<void> = Promise.resolve();
function app(): Hono {
  const hono = new Hono();
  hono.get('/hello/:name', (c) => {
    c.header('set-cookie', 'a=1; Path=/', { append: true });
    c.header('set-cookie', 'b=2; Path=/', { append: true });
    return c.json({ name: c.req.param('name'), q: c.req.query('q') ?? null });
  });
  // Echoes the request body back as it streams in, upper-cased.
  hono.post('/upper', (c) => {
    const body = c.req.raw.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, out) => out.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase())),
      }),
    );
    return new Response(body, { headers: { 'content-type': 'text/plain' } });
  });
  // A stream that never ends by itself: it must learn when the client leaves.
  hono.get('/forever', (c) => {
    let gone!: () => void;
    aborted = new Promise<void>((resolve) => (gone = resolve));
    c.req.raw.signal.addEventListener('abort', () => gone());
    return stream(c, async (s) => {
      while (!c.req.raw.signal.aborted) {
        await s.write('tick\n');
        await s.sleep(20);
      }
    });
  });
  hono.get('/boom', () => {
    throw new Error('boom');
  });
  hono.get('*', (c) => c.text(`seen ${new URL(c.req.url).host} ${c.req.path}`));
  hono.onError((err) => {
    throw err;
  });
  return hono;
}

async function serve(): Promise<string> {
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    handler: [encode({ encodings: { gzip: {} }, minimumLength: 1 }), fromFetch(app().fetch)],
    errors: { routes: [{ handle: [staticResponse({ statusCode: 599, body: 'error route: {http.error.status_code}' })] }] },
  });
  await server.listen();
  return server.url;
}

describe('fromFetch: a Hono app inside Ferry', () => {
  it('gets its route params, query and every Set-Cookie through', async () => {
    const url = await serve();
    const res = await fetch(`${url}/hello/ada?q=%C3%A9`);
    expect(await res.json()).toEqual({ name: 'ada', q: 'é' });
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(res.headers.get('content-encoding')).toBe('gzip'); // encode in front still applies
  });

  it('streams the request body in and the response out, chunk by chunk', async () => {
    const url = await serve();
    const { port } = new URL(url);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/upper', headers: { 'transfer-encoding': 'chunked' } },
        (res) => {
          let text = '';
          let wrote = 1;
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
            // The first chunk came back before the request ended: both directions stream.
            if (wrote < 3) req.write(`chunk${++wrote} `);
            else if (wrote === 3) {
              wrote++;
              req.end();
            }
          });
          res.on('end', () => resolve(text));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.write('chunk1 ');
    });
    expect(answer).toBe('CHUNK1 CHUNK2 CHUNK3 ');
  });

  it('aborts request.signal within a second of the client leaving', async () => {
    const url = await serve();
    const { port } = new URL(url);
    const req = request({ host: '127.0.0.1', port, path: '/forever' });
    req.end();
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
    await once(res, 'data');
    const left = Date.now();
    req.destroy();
    await aborted;
    expect(Date.now() - left).toBeLessThan(1000);
  });

  it('sends what the handler throws to the error routes', async () => {
    const url = await serve();
    const res = await fetch(`${url}/boom`);
    expect(res.status).toBe(599);
    expect(await res.text()).toBe('error route: 500');
  });

  it('never lets a Host or a target change what the URL says its host or path is', async () => {
    const url = await serve();
    const port = Number(new URL(url).port);
    const raw = async (target: string, host: string): Promise<string> => {
      const socket = connect(port, '127.0.0.1');
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`);
      let out = '';
      for await (const chunk of socket) out += chunk;
      return out;
    };
    // A Host a URL would read as userinfo or as part of the path: refused, never re-read.
    // (The error routes of this server answer 599 with the error's status in the body.)
    for (const host of ['a@b.example', 'a/b', 'a?b', 'a#b', 'a\\b', 'h.example:99999'])
      expect(await raw('/x', host), host).toContain('error route: 400');
    // A path that looks like an authority stays a path.
    expect(await raw('//y/z', 'h.example')).toContain('seen h.example //y/z');
    expect(await raw('/x', '[::1]:8080')).toContain('seen [::1]:8080 /x');
  });
});
