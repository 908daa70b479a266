/**
 * Byte-for-byte round trips: every encoding this Node has, every body size around the
 * thresholds and well past them, written the three ways handlers write, over HTTP/1.1 and h2.
 */
import { describe, expect, it } from 'vitest';
import type { FerryServer, Handler } from '@ferry/core';
import { encode, zstdAvailable } from '../src/index.js';
import { decode, drain, h1Get, KiB, MiB, serve, text } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Get, h2Session, type Reply } from '@ferry/test-kit/clients';

const SIZES: [string, number][] = [
  ['0 B', 0],
  ['1 B', 1],
  ['511 B', 511],
  ['512 B', 512],
  ['64 KiB', 64 * KiB],
  ['1 MiB', MiB],
  ['10 MiB', 10 * MiB],
];

type Mode = 'end' | 'small' | 'stream';
const MODES: [Mode, string][] = [
  ['end', 'written in one end(body)'],
  ['small', 'written in many small writes without Content-Length'],
  ['stream', 'streamed with backpressure'],
];

/** Writes the first `size` bytes of the test text the way `mode` says. */
const writer: Handler = async (req, res) => {
  const body = text(Number(req.query.get('size')));
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  switch (req.query.get('mode') as Mode) {
    case 'end':
      res.end(body);
      return;
    case 'small':
      // An odd size, so chunk boundaries never line up with the 512-byte threshold.
      for (let i = 0; i < body.length; i += 1000) res.write(body.subarray(i, i + 1000));
      res.end();
      return;
    case 'stream':
      for (let i = 0; i < body.length; i += 16 * KiB) {
        if (!res.write(body.subarray(i, i + 16 * KiB))) await drain(res);
      }
      res.end();
      return;
  }
};

/** The server for one encoding: only that one configured, the default minimum_length of 512. */
function server(encoding: 'gzip' | 'br' | 'zstd', secure: boolean): Promise<FerryServer> {
  return serve({ secure, handler: [encode({ encodings: { [encoding]: {} } }), writer] });
}

const PROTOCOLS: { name: string; secure: boolean; get(s: FerryServer, path: string, ae: string): Promise<Reply> }[] = [
  { name: 'HTTP/1.1', secure: false, get: (s, path, ae) => h1Get(s.url, path, { headers: { 'accept-encoding': ae } }) },
  {
    name: 'h2 (TLS)',
    secure: true,
    get: async (s, path, ae) => h2Get(await h2Session(s.url, { ca: certificates().ca }), path, { 'accept-encoding': ae }),
  },
];

function roundTrips(encoding: 'gzip' | 'br' | 'zstd') {
  for (const protocol of PROTOCOLS) {
    describe(`over ${protocol.name}`, () => {
      for (const [mode, how] of MODES) {
        for (const [label, size] of SIZES) {
          // Below minimum_length the whole body is known to be short: it goes out as is.
          const expected = size >= 512 ? encoding : undefined;
          it(`a ${label} body ${how} arrives ${expected ? `${encoding}-encoded` : 'unencoded'} and decodes to the same bytes`, async () => {
            const s = await server(encoding, protocol.secure);
            const reply = await protocol.get(s, `/?size=${size}&mode=${mode}`, encoding);
            expect(reply.status).toBe(200);
            expect(reply.headers['content-encoding']).toBe(expected);
            const decoded = decode(reply.body, reply.headers['content-encoding']);
            expect(decoded.length).toBe(size);
            expect(decoded.equals(text(size))).toBe(true);
          });
        }
      }
    });
  }
}

describe('gzip round trips', () => roundTrips('gzip'));
describe('br round trips', () => roundTrips('br'));
// zstd exists only where this Node's zlib has it (22.15+, 23.8+): CI runs these on Node 24.
describe.runIf(zstdAvailable)('zstd round trips', () => roundTrips('zstd'));
