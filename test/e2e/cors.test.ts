/**
 * CORS and cookies in a real browser: a page on one loopback origin calls an API on another, served
 * by Ferry with `cors`. Chromium's own preflight must reach Ferry and be answered there, never by the
 * API handler; the cookie the API set with `res.setCookie` comes back in `req.cookies`; and a page on
 * an origin that is not allowed gets a network error, while the API handler never sees its request.
 */
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cors, createServer, type FerryServer, type HandlerInput, type Middleware } from '@ferry/core';
import { CHROMIUM } from './setup.js';

interface Seen {
  method: string;
  path: string;
  origin: string | undefined;
  preflightMethod: string | undefined;
  preflightHeaders: string | undefined;
}

/** Every request that reached Ferry (before `cors`), and every one that reached the API handler (after it). */
const atFerry: Seen[] = [];
const atApi: Seen[] = [];

const seen = (req: Parameters<Middleware>[0]): Seen => ({
  method: req.method,
  path: req.path,
  origin: req.headers.origin,
  preflightMethod: req.headers['access-control-request-method'] as string | undefined,
  preflightHeaders: req.headers['access-control-request-headers'] as string | undefined,
});

const record: Middleware = async (req, res, next) => {
  atFerry.push(seen(req));
  await next(req, res);
};

/** POST /login sets the session cookie; PUT /item answers with what it got: body, token, cookie. */
const api: Middleware = async (req, res) => {
  atApi.push(seen(req));
  if (req.method === 'POST' && req.path === '/login') {
    res.setCookie('session', 's3cr3t value');
    res.end('logged in');
    return;
  }
  let body = '';
  for await (const chunk of req.body) body += chunk;
  res.setHeader('content-type', 'application/json');
  res.setHeader('x-echo', 'exposed');
  res.end(JSON.stringify({ method: req.method, body, token: req.headers['x-token'], session: req.cookies.session ?? null }));
};

const page: Middleware = async (_req, res) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end('<!doctype html><title>page</title><p>a page on its own origin</p>');
};

const servers: FerryServer[] = [];
let browser: Browser;
let apiUrl: string;
let allowedPage: string;
let otherPage: string;

async function start(handler: HandlerInput[]): Promise<string> {
  const server = createServer({ listen: '127.0.0.1:0', logger: false, handler });
  await server.listen();
  servers.push(server);
  return server.url;
}

beforeAll(async () => {
  allowedPage = await start([page]);
  otherPage = await start([page]);
  apiUrl = await start([
    record,
    cors({
      allowedOrigins: [allowedPage],
      allowedMethods: ['PUT'],
      allowedHeaders: ['X-Token', 'Content-Type'],
      exposedHeaders: ['X-Echo'],
      allowCredentials: true,
    }),
    api,
  ]);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close({ gracePeriod: 0 })));
});

/** Runs the page's calls to the API from `origin`; a failed fetch is reported as `{ error }`. */
async function fromPage(origin: string) {
  const context = await browser.newContext();
  try {
    const tab = await context.newPage();
    expect((await tab.goto(`${origin}/`))?.status()).toBe(200);
    return await tab.evaluate(async (base) => {
      const out: Record<string, unknown> = {};
      try {
        const login = await fetch(`${base}/login`, { method: 'POST', credentials: 'include' });
        out.login = await login.text();
      } catch (err) {
        out.login = { error: String(err) };
      }
      try {
        const res = await fetch(`${base}/item`, {
          method: 'PUT',
          credentials: 'include',
          headers: { 'X-Token': 't-1', 'Content-Type': 'application/json' },
          body: JSON.stringify({ n: 1 }),
        });
        out.put = { status: res.status, echo: res.headers.get('x-echo'), json: await res.json() };
      } catch (err) {
        out.put = { error: String(err) };
      }
      return out;
    }, apiUrl);
  } finally {
    await context.close();
  }
}

describe('cors in Chromium', () => {
  it('a credentialed PUT with a custom header is preflighted; Ferry answers the preflight and the page gets the answer, cookie included', async () => {
    atFerry.length = 0;
    atApi.length = 0;
    const result = await fromPage(allowedPage);
    expect(result.login).toBe('logged in');
    expect(result.put).toEqual({
      status: 200,
      echo: 'exposed',
      json: { method: 'PUT', body: '{"n":1}', token: 't-1', session: 's3cr3t value' },
    });
    // Chromium's own preflight reached Ferry…
    const preflights = atFerry.filter((r) => r.method === 'OPTIONS');
    expect(preflights).toEqual([
      { method: 'OPTIONS', path: '/item', origin: allowedPage, preflightMethod: 'PUT', preflightHeaders: 'content-type,x-token' },
    ]);
    // …and was answered there: the API handler saw the login and the PUT, never an OPTIONS.
    expect(atApi.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /login', 'PUT /item']);
  });

  it('a page on an origin that is not allowed gets a network error, and the PUT never reaches the API handler', async () => {
    atFerry.length = 0;
    atApi.length = 0;
    const result = await fromPage(otherPage);
    // A simple POST runs on the server (CORS guards the page, not the server) but the page may not read it.
    expect(result.login).toEqual({ error: expect.stringMatching(/TypeError: Failed to fetch/) });
    expect(result.put).toEqual({ error: expect.stringMatching(/TypeError: Failed to fetch/) });
    expect(atFerry.filter((r) => r.method === 'OPTIONS').map((r) => r.origin)).toEqual([otherPage]);
    expect(atApi.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /login']);
  });
});
