import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createServer, type FerryServer, fromNodeHandler, type Handler, staticResponse } from '@ferry/core';
import { encode } from '@ferry/encode';

/** An Express 5 app mounted with fromNodeHandler behind encode, spoken to by real clients over 127.0.0.1. */
let server: FerryServer | undefined;
afterEach(async () => {
  await server?.close({ gracePeriod: 0 });
  server = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'ferry-from-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PAGE = `<!doctype html><title>page</title>${'<p>Ferry serves Express</p>'.repeat(400)}`;
writeFileSync(join(dir, 'page.html'), PAGE);

let left: Promise<void> = Promise.resolve();
function app() {
  const a = express();
  a.use(express.json());
  a.get('/users/:id', (req, res) => {
    res.cookie('seen', req.params.id, { httpOnly: true });
    res.cookie('theme', 'dark');
    res.json({ id: req.params.id, q: req.query.q ?? null, url: req.originalUrl, ip: req.ip });
  });
  a.post('/echo', (req, res) => res.status(201).json({ got: req.body }));
  a.get('/old', (_req, res) => res.redirect(301, '/new'));
  a.get('/page', (_req, res) => res.sendFile(join(dir, 'page.html')));
  a.get('/events', (req, res) => {
    res.setHeader('content-type', 'text/event-stream');
    res.flushHeaders();
    let n = 0;
    let gone!: () => void;
    left = new Promise<void>((resolve) => (gone = resolve));
    const tick = setInterval(() => res.write(`data: ${++n}\n\n`), 10);
    req.on('close', () => {
      clearInterval(tick);
      gone();
    });
  });
  a.get('/fail', (_req, _res, next) => next(new Error('express failed')));
  return a;
}

const fallback: Handler = async (req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`ferry after express: ${req.url}`);
};

async function serve(protocols?: ('h1' | 'h2c')[]): Promise<string> {
  server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    ...(protocols ? { protocols } : {}),
    handler: [encode({ encodings: { gzip: {} }, minimumLength: 1 }), fromNodeHandler(app()), fallback],
    errors: { routes: [{ handle: [staticResponse({ statusCode: 599, body: 'error route: {http.error.status_code}' })] }] },
  });
  await server.listen();
  return server.url;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function get(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const GZIP = { 'accept-encoding': 'gzip' };

describe('fromNodeHandler: an Express 5 app inside Ferry, behind encode', () => {
  it('answers its routes compressed, with params, query, every cookie and the client address intact', async () => {
    const url = await serve();
    const r = await get(url, '/users/a%20b?q=%C3%A9', { headers: GZIP });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(gunzipSync(r.body).toString())).toEqual({ id: 'a b', q: 'é', url: '/users/a%20b?q=%C3%A9', ip: '127.0.0.1' });
    expect(r.headers['set-cookie']).toEqual(['seen=a%20b; Path=/; HttpOnly', 'theme=dark; Path=/']);
    expect(r.headers['x-powered-by']).toBe('Express');
  });

  it('reads a JSON request body through express.json()', async () => {
    const url = await serve();
    const r = await get(url, '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body.toString())).toEqual({ got: { a: [1, 2] } });
  });

  it('res.redirect and res.sendFile work; the file arrives compressed and whole', async () => {
    const url = await serve();
    const moved = await get(url, '/old');
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('/new');
    const page = await get(url, '/page', { headers: GZIP });
    expect(page.status).toBe(200);
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(gunzipSync(page.body).toString()).toBe(PAGE);
    expect(page.body.length).toBeLessThan(PAGE.length / 10);
  });

  it('a route Express does not have goes on down the Ferry chain; next(err) goes to the error routes', async () => {
    const url = await serve();
    const miss = await get(url, '/nowhere?x=1');
    expect(miss.status).toBe(200);
    expect(miss.body.toString()).toBe('ferry after express: /nowhere?x=1');
    const failed = await get(url, '/fail');
    expect(failed.status).toBe(599);
    expect(failed.body.toString()).toBe('error route: 500');
  });

  it('streams an event stream compressed, event by event, and tells Express when the client leaves', async () => {
    const url = await serve();
    const { port } = new URL(url);
    const req = request({ host: '127.0.0.1', port, path: '/events', headers: GZIP });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    expect(res.headers['content-encoding']).toBe('gzip');
    // Each event is flushed by encode: the first three decode as they arrive.
    const { createGunzip } = await import('node:zlib');
    const gunzip = createGunzip();
    res.pipe(gunzip);
    let text = '';
    for await (const chunk of gunzip) {
      text += chunk;
      if (text.includes('data: 3\n\n')) break;
    }
    expect(text.startsWith('data: 1\n\ndata: 2\n\ndata: 3\n\n')).toBe(true);
    const at = Date.now();
    req.destroy();
    await left;
    expect(Date.now() - at).toBeLessThan(1000);
  });

  it('serves Express over h2c too', async () => {
    const url = await serve(['h1', 'h2c']);
    const session = h2connect(url);
    try {
      const stream = session.request({ ':path': '/users/7', 'accept-encoding': 'gzip' });
      const [head] = (await once(stream, 'response')) as [Record<string, string>];
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      expect(head[':status']).toBe(200);
      expect(head['content-encoding']).toBe('gzip');
      expect(JSON.parse(gunzipSync(Buffer.concat(chunks)).toString())).toMatchObject({ id: '7', url: '/users/7' });
    } finally {
      session.close();
    }
  });
});

describe('fromNodeHandler: a Koa 3 app inside Ferry, behind encode', () => {
  it("serves Koa's body kinds (JSON, a stream, a redirect) compressed, and a Koa 404 stays Koa's", async () => {
    const { default: Koa } = await import('koa');
    const koa = new Koa();
    koa.use(async (ctx, nextKoa) => {
      if (ctx.path === '/json') ctx.body = { items: Array.from({ length: 100 }, (_, i) => ({ i })) };
      else if (ctx.path === '/stream') {
        ctx.type = 'text/plain';
        ctx.body = Readable.from(['streamed ', 'by ', 'koa']);
      } else if (ctx.path === '/old') ctx.redirect('/json');
      else await nextKoa();
    });
    server = createServer({
      listen: '127.0.0.1:0',
      logger: false,
      handler: [encode({ encodings: { gzip: {} }, minimumLength: 1 }), fromNodeHandler(koa.callback())],
    });
    await server.listen();
    const json = await get(server.url, '/json', { headers: GZIP });
    expect(json.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(json.body).toString()).items).toHaveLength(100);
    const streamed = await get(server.url, '/stream', { headers: GZIP });
    expect(gunzipSync(streamed.body).toString()).toBe('streamed by koa');
    const moved = await get(server.url, '/old');
    expect([moved.status, moved.headers.location]).toEqual([302, '/json']);
    const missing = await get(server.url, '/nowhere');
    expect([missing.status, missing.body.toString()]).toEqual([404, 'Not Found']);
  });
});
