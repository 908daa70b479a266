/**
 * Validators, conditional requests (RFC 9110 §13), Range (§14), HEAD and methods, over HTTP/1.1
 * (node:http, undici) and h2c (node:http2): the same answers on both.
 */
import { utimesSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { request as undiciRequest } from 'undici';
import { h1Get, h2Get, h2Session, type Reply } from '@ferry/test-kit/clients';
import { fileServer } from '../src/index.js';
import { makeSite, serve } from './helpers.js';

const BODY = '0123456789abcdefghijklmnopqrstuvwxyz';
const MTIME = new Date('2024-03-01T12:00:00Z');

async function site() {
  const s = makeSite();
  const path = s.write('data.txt', BODY);
  utimesSync(path, MTIME, MTIME);
  return serve({ protocols: ['h1', 'h2c'], routes: [{ handle: [fileServer({ root: s.root })] }] });
}

type Get = (path: string, headers?: Record<string, string>) => Promise<Reply>;

const PROTOCOLS: [string, (url: string) => Promise<Get>][] = [
  [
    'HTTP/1.1',
    async (url) =>
      (path, headers = {}) =>
        h1Get(`${url}${path}`, { method: headers[':method'] ?? 'GET', headers: strip(headers) }),
  ],
  [
    'h2c',
    async (url) => {
      const session = await h2Session(url);
      return (path, headers = {}) => h2Get(session, path, headers as OutgoingHttpHeaders);
    },
  ],
];

function strip(headers: Record<string, string>): Record<string, string> {
  const { ':method': _, ...rest } = headers;
  return rest;
}

describe.each(PROTOCOLS)('file_server over %s', (_name, client) => {
  it('a GET carries Content-Type with charset, Content-Length, a strong ETag, Last-Modified and Accept-Ranges', async () => {
    const get = await client((await site()).url);
    const r = await get('/data.txt');
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(BODY);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['content-length']).toBe(String(BODY.length));
    expect(r.headers.etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/);
    expect(r.headers['last-modified']).toBe(MTIME.toUTCString());
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.vary).toBe('Accept-Encoding');
  });

  it('If-None-Match with the ETag (or W/ of it, or *) is 304 without a body; another tag is 200', async () => {
    const get = await client((await site()).url);
    const { etag } = (await get('/data.txt')).headers;
    for (const inm of [etag as string, `"other", ${etag}`, `W/${etag}`, '*']) {
      const r = await get('/data.txt', { 'if-none-match': inm });
      expect(r.status, inm).toBe(304);
      expect(r.body.length).toBe(0);
      expect(r.headers.etag).toBe(etag);
    }
    expect((await get('/data.txt', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('If-Modified-Since at or after the mtime is 304; before it, or unparseable, is 200; If-None-Match wins over it', async () => {
    const get = await client((await site()).url);
    expect((await get('/data.txt', { 'if-modified-since': MTIME.toUTCString() })).status).toBe(304);
    expect((await get('/data.txt', { 'if-modified-since': new Date(MTIME.getTime() + 5000).toUTCString() })).status).toBe(304);
    expect((await get('/data.txt', { 'if-modified-since': new Date(MTIME.getTime() - 1000).toUTCString() })).status).toBe(200);
    expect((await get('/data.txt', { 'if-modified-since': 'yesterday' })).status).toBe(200);
    const r = await get('/data.txt', { 'if-modified-since': MTIME.toUTCString(), 'if-none-match': '"other"' });
    expect(r.status).toBe(200);
  });

  it('If-Match that fails, or a weak tag, is 412; If-Unmodified-Since before the mtime is 412', async () => {
    const get = await client((await site()).url);
    const { etag } = (await get('/data.txt')).headers;
    expect((await get('/data.txt', { 'if-match': etag as string })).status).toBe(200);
    expect((await get('/data.txt', { 'if-match': '*' })).status).toBe(200);
    expect((await get('/data.txt', { 'if-match': '"nope"' })).status).toBe(412);
    expect((await get('/data.txt', { 'if-match': `W/${etag}` })).status).toBe(412);
    expect((await get('/data.txt', { 'if-unmodified-since': new Date(MTIME.getTime() - 1000).toUTCString() })).status).toBe(412);
    expect((await get('/data.txt', { 'if-unmodified-since': MTIME.toUTCString() })).status).toBe(200);
  });

  it('Range: one range is 206 with Content-Range; first-, -suffix and a past-the-end last are clamped', async () => {
    const get = await client((await site()).url);
    const cases: [string, string, string][] = [
      ['bytes=0-9', '0123456789', 'bytes 0-9/36'],
      ['bytes=30-', 'uvwxyz', 'bytes 30-35/36'],
      ['bytes=-3', 'xyz', 'bytes 33-35/36'],
      ['bytes=10-1000', BODY.slice(10), 'bytes 10-35/36'],
      ['bytes=-100', BODY, 'bytes 0-35/36'],
    ];
    for (const [range, body, contentRange] of cases) {
      const r = await get('/data.txt', { range });
      expect(r.status, range).toBe(206);
      expect(r.body.toString()).toBe(body);
      expect(r.headers['content-range']).toBe(contentRange);
      expect(r.headers['content-length']).toBe(String(body.length));
    }
  });

  it('an unsatisfiable Range is 416 with Content-Range bytes */size; an invalid one, or several ranges, get the whole file', async () => {
    const get = await client((await site()).url);
    for (const range of ['bytes=36-', 'bytes=100-200', 'bytes=-0']) {
      const r = await get('/data.txt', { range });
      expect(r.status, range).toBe(416);
      expect(r.headers['content-range']).toBe('bytes */36');
    }
    for (const range of ['bytes=5-2', 'items=0-1', 'bytes=abc', 'bytes=0-1,4-5', `bytes=${'0-0,'.repeat(200)}0-0`]) {
      const r = await get('/data.txt', { range });
      expect(r.status, range).toBe(200);
      expect(r.body.toString()).toBe(BODY);
    }
  });

  it('If-Range with the current ETag or date honours the Range; a stale one sends the whole file', async () => {
    const get = await client((await site()).url);
    const { etag } = (await get('/data.txt')).headers;
    expect((await get('/data.txt', { range: 'bytes=0-1', 'if-range': etag as string })).status).toBe(206);
    expect((await get('/data.txt', { range: 'bytes=0-1', 'if-range': MTIME.toUTCString() })).status).toBe(206);
    const stale = await get('/data.txt', { range: 'bytes=0-1', 'if-range': '"stale"' });
    expect(stale.status).toBe(200);
    expect(stale.body.toString()).toBe(BODY);
    expect((await get('/data.txt', { range: 'bytes=0-1', 'if-range': new Date(0).toUTCString() })).status).toBe(200);
  });

  it('HEAD has the headers of the GET and no body; POST is 405 with Allow: GET, HEAD', async () => {
    const get = await client((await site()).url);
    const head = await get('/data.txt', { ':method': 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(BODY.length));
    expect(head.headers.etag).toBeDefined();
    expect(head.body.length).toBe(0);
    const post = await get('/data.txt', { ':method': 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    // A missing file is 404 whatever the method, as in Caddy.
    expect((await get('/missing', { ':method': 'DELETE' })).status).toBe(404);
  });
});

describe('file_server with undici', () => {
  it('serves a Range and a conditional GET to undici on one kept-alive connection', async () => {
    const server = await site();
    const full = await undiciRequest(`${server.url}/data.txt`);
    expect(await full.body.text()).toBe(BODY);
    const etag = full.headers.etag as string;
    const part = await undiciRequest(`${server.url}/data.txt`, { headers: { range: 'bytes=2-4' } });
    expect(part.statusCode).toBe(206);
    expect(await part.body.text()).toBe('234');
    const cached = await undiciRequest(`${server.url}/data.txt`, { headers: { 'if-none-match': etag } });
    expect(cached.statusCode).toBe(304);
    expect(await cached.body.text()).toBe('');
  });
});
