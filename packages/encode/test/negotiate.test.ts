/** Accept-Encoding negotiation (RFC 9110 §12.5.3): the function alone, then through real requests. */
import { describe, expect, it } from 'vitest';
import type { Handler } from '@ferry/core';
import { encode, negotiate } from '../src/index.js';
import { decode, h1Get, serve, text } from './helpers/net.js';

const ALL = ['zstd', 'br', 'gzip'];

describe('negotiate()', () => {
  it('picks identity when the request has no Accept-Encoding', () => {
    expect(negotiate(undefined, ALL)).toBeUndefined();
    expect(negotiate('', ALL)).toBeUndefined();
  });

  it('picks the only encoding the client names', () => {
    expect(negotiate('gzip', ALL)).toBe('gzip');
  });

  it('picks the encoding with the highest q-value', () => {
    expect(negotiate('gzip;q=0.9, br;q=0.5', ALL)).toBe('gzip');
    expect(negotiate('gzip;q=0.5, br;q=0.9', ALL)).toBe('br');
    expect(negotiate('gzip; q=0.3, zstd; q=0.31', ALL)).toBe('zstd');
  });

  it('reads names and parameters case-insensitively', () => {
    expect(negotiate('GZIP;Q=0.5, Br;q=0.4', ALL)).toBe('gzip');
  });

  it('ignores an encoding the server does not offer', () => {
    expect(negotiate('deflate, compress, gzip;q=0.1', ALL)).toBe('gzip');
    expect(negotiate('deflate', ALL)).toBeUndefined();
  });

  it('lets * stand for every offered encoding, the first in preference order winning', () => {
    expect(negotiate('*', ALL)).toBe('zstd');
    expect(negotiate('*', ['gzip', 'br'])).toBe('gzip');
  });

  it('lets a named encoding outrank *', () => {
    expect(negotiate('*;q=0.5, gzip', ALL)).toBe('gzip');
  });

  it('rules out an encoding with q=0, even when * would allow it', () => {
    expect(negotiate('*, gzip;q=0', ['gzip', 'br'])).toBe('br');
    expect(negotiate('*, gzip;q=0', ['gzip'])).toBeUndefined();
    expect(negotiate('gzip;q=0', ['gzip'])).toBeUndefined();
    expect(negotiate('*;q=0', ALL)).toBeUndefined();
  });

  it('picks identity when the client prefers it to every encoding', () => {
    expect(negotiate('gzip;q=0.5, identity', ALL)).toBeUndefined();
    expect(negotiate('br;q=0.2, identity;q=0.8', ALL)).toBeUndefined();
  });

  it('picks the encoding when it ties with identity', () => {
    expect(negotiate('identity, gzip', ALL)).toBe('gzip');
  });

  it('breaks ties between equal q-values by the server preference order', () => {
    expect(negotiate('gzip, br', ['br', 'gzip'])).toBe('br');
    expect(negotiate('br, gzip', ['gzip', 'br'])).toBe('gzip');
    expect(negotiate('br;q=0.8, gzip;q=0.8, zstd;q=0.8', ['gzip', 'zstd', 'br'])).toBe('gzip');
  });

  it('treats x-gzip as gzip', () => {
    expect(negotiate('x-gzip', ['gzip'])).toBe('gzip');
  });

  it('does not let an x-gzip entry lower a q-value already given to gzip', () => {
    expect(negotiate('gzip;q=0.9, br;q=0.5, x-gzip;q=0.1', ['br', 'gzip'])).toBe('gzip');
  });

  it('treats a q-value that is not a number between 0 and 1 as q=0', () => {
    expect(negotiate('gzip;q=2, br;q=zero', ALL)).toBeUndefined();
  });
});

describe('negotiation through real requests', () => {
  const page: Handler = async (_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(text(4096));
  };
  const start = (options: Parameters<typeof encode>[0]) => serve({ handler: [encode(options), page] });

  it('a request without Accept-Encoding gets the body as is, with Vary: Accept-Encoding', async () => {
    const server = await start({ encodings: { gzip: {}, br: {} } });
    const reply = await h1Get(server.url, '/');
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers.vary).toBe('Accept-Encoding');
    expect(reply.body.equals(text(4096))).toBe(true);
  });

  it('the highest q-value decides the Content-Encoding', async () => {
    const server = await start({ encodings: { gzip: {}, br: {} } });
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'br;q=0.5, gzip;q=0.9' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(decode(reply.body, 'gzip').equals(text(4096))).toBe(true);
  });

  it('"*, gzip;q=0" gets anything but gzip', async () => {
    const server = await start({ encodings: { gzip: {}, br: {} } });
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': '*, gzip;q=0' } });
    expect(reply.headers['content-encoding']).toBe('br');
    expect(decode(reply.body, 'br').equals(text(4096))).toBe(true);
  });

  it('"*, gzip;q=0" gets identity when gzip is all the server has', async () => {
    const server = await start({ encodings: { gzip: {} } });
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': '*, gzip;q=0' } });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.equals(text(4096))).toBe(true);
  });

  it('prefer breaks a tie between encodings the client accepts equally', async () => {
    const server = await start({ encodings: { gzip: {}, br: {} }, prefer: ['gzip', 'br'] });
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
  });

  it('without prefer, a tie goes to br over gzip', async () => {
    const server = await start({ encodings: { gzip: {}, br: {} } });
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(reply.headers['content-encoding']).toBe('br');
  });

  it('a client asking for x-gzip gets gzip', async () => {
    const server = await start({ encodings: { gzip: {} } });
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'x-gzip' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(decode(reply.body, 'gzip').equals(text(4096))).toBe(true);
  });
});
