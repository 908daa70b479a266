/**
 * No deferred status where a peer waits (SPEC §6): 1xx pass straight through, flush() puts the
 * head and the compressed bytes so far on the wire, event streams go out event by event.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, InformationEvent } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Handler } from '@ferry/core';
import { encode, zstdAvailable } from '../src/index.js';
import { DecodedStream, deferred, defer, h1Request, open, serve, text, type Protocol } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';

// zstd only where this Node's zlib has it (22.15+, 23.8+).
const ENCODINGS = ['gzip', 'br', ...(zstdAvailable ? ['zstd'] : [])];
const PROTOCOLS: Protocol[] = ['HTTP/1.1', 'h2'];

/** A gate the handler waits on; opened by the test, and at teardown whatever happened. */
function gate() {
  const d = deferred();
  defer(() => d.resolve());
  return d;
}

/** encode (every available encoding) in front of `handler`; h2 servers speak TLS. */
const behind = (handler: Handler, protocol: Protocol = 'HTTP/1.1', options: Parameters<typeof encode>[0] = {}) =>
  serve({
    secure: protocol === 'h2',
    handler: [encode({ encodings: { gzip: {}, br: {}, ...(zstdAvailable ? { zstd: {} } : {}) }, ...options }), handler],
  });

// A held status shows up as a wait that never ends: these tests fail in seconds, not at the suite timeout.
const DEADLOCK = { timeout: 5000 };

describe('1xx responses pass straight through encode', () => {
  /** Sends a 103 one way or the other, then holds the final response until the test opens the gate. */
  function earlyHints(send: 'writeInformational' | 'writeHead') {
    const release = gate();
    const handler: Handler = async (_req, res) => {
      const hints = { link: '</style.css>; rel=preload; as=style' };
      if (send === 'writeInformational') res.writeInformational(103, hints);
      else res.writeHead(103, hints);
      await release.promise;
      res.setHeader('content-type', 'text/html');
      res.end(text(4096));
    };
    return { handler, release };
  }

  for (const send of ['writeInformational', 'writeHead'] as const) {
    it(`a 103 sent with res.${send}() reaches a node:http client while the handler still holds the final response`, DEADLOCK, async () => {
      const { handler, release } = earlyHints(send);
      const server = await behind(handler);
      const req = h1Request(server.url, '/', { headers: { 'accept-encoding': 'gzip' } });
      const [info] = (await once(req, 'information')) as [InformationEvent];
      expect(info.statusCode).toBe(103);
      expect(info.headers.link).toBe('</style.css>; rel=preload; as=style');
      release.resolve();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-encoding']).toBe('gzip');
      res.resume();
    });
  }

  it(
    'a 103 reaches an h2 client as an informational HEADERS frame while the handler still holds the final response',
    DEADLOCK,
    async () => {
      const { handler, release } = earlyHints('writeInformational');
      const server = await behind(handler, 'h2');
      const session = await h2Session(server.url, { ca: certificates().ca });
      const stream = session.request({ ':path': '/', 'accept-encoding': 'gzip' });
      const [hints] = (await once(stream, 'headers')) as [IncomingHttpHeaders];
      expect(hints[':status']).toBe(103);
      expect(hints.link).toBe('</style.css>; rel=preload; as=style');
      release.resolve();
      const [final] = (await once(stream, 'response')) as [IncomingHttpHeaders];
      expect(final[':status']).toBe(200);
      stream.resume();
    },
  );
});

describe('res.flush() puts the head and the compressed bytes so far on the wire', () => {
  for (const protocol of PROTOCOLS) {
    for (const encoding of ENCODINGS) {
      it(
        `over ${protocol} with ${encoding}: the client gets the response and decodes the first chunk while the handler still waits`,
        DEADLOCK,
        async () => {
          const release = gate();
          const server = await behind(async (_req, res) => {
            res.setHeader('content-type', 'text/plain');
            res.write('the first chunk, ');
            res.flush();
            await release.promise;
            res.end('and the rest.');
          }, protocol);
          const opened = await open(protocol, server, '/', { 'accept-encoding': encoding });
          expect(opened.status).toBe(200);
          // A streamed response is presumed long: flushed before minimum_length, it is still compressed.
          expect(opened.headers['content-encoding']).toBe(encoding);
          const decoded = new DecodedStream(opened.body, encoding);
          await decoded.until((t) => t === 'the first chunk, ');
          release.resolve();
          expect(await decoded.until((t) => t.length >= 30)).toBe('the first chunk, and the rest.');
        },
      );
    }
  }

  for (const protocol of PROTOCOLS) {
    it(`over ${protocol}: a flush in the middle of a long compressed stream pushes out everything written so far`, DEADLOCK, async () => {
      const release = gate();
      const start = text(64 * 1024).toString('latin1');
      const server = await behind(async (_req, res) => {
        res.setHeader('content-type', 'text/plain');
        res.write(start); // well past minimum_length: compressing already
        res.write('<marker>');
        res.flush();
        await release.promise;
        res.end('<end>');
      }, protocol);
      const opened = await open(protocol, server, '/', { 'accept-encoding': 'gzip' });
      expect(opened.headers['content-encoding']).toBe('gzip');
      const decoded = new DecodedStream(opened.body, 'gzip');
      expect(await decoded.until((t) => t.endsWith('<marker>'))).toBe(`${start}<marker>`);
      release.resolve();
      expect(await decoded.done).toBe(`${start}<marker><end>`);
    });
  }

  it('a flush before anything is written sends the head at once', DEADLOCK, async () => {
    const release = gate();
    const server = await behind(async (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.flush();
      await release.promise;
      res.end(JSON.stringify({ ok: true }));
    });
    const opened = await open('HTTP/1.1', server, '/', { 'accept-encoding': 'gzip' });
    expect(opened.status).toBe(200);
    release.resolve();
    expect(
      await new DecodedStream(opened.body, opened.headers['content-encoding'] as string | undefined).until((t) => t.endsWith('}')),
    ).toBe('{"ok":true}');
  });
});

describe('text/event-stream through encode', () => {
  /** An event stream whose events the test releases one at a time. */
  function events(count: number, start: 'writeHead' | 'flushHeaders') {
    const gates = Array.from({ length: count }, gate);
    const handler: Handler = async (_req, res) => {
      if (start === 'writeHead') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      } else {
        res.setHeader('content-type', 'text/event-stream; charset=utf-8');
        res.flushHeaders();
      }
      for (let i = 0; i < count; i++) {
        await gates[i]!.promise;
        res.write(`id: ${i}\ndata: event number ${i}\n\n`);
      }
      res.end();
    };
    return { handler, gates };
  }

  for (const protocol of PROTOCOLS) {
    it(`over ${protocol}: the head arrives before the first event, compressed`, DEADLOCK, async () => {
      const { handler } = events(1, 'writeHead');
      const server = await behind(handler, protocol);
      const opened = await open(protocol, server, '/events', { 'accept-encoding': 'gzip' });
      expect(opened.status).toBe(200);
      expect(opened.headers['content-type']).toBe('text/event-stream');
      expect(opened.headers['content-encoding']).toBe('gzip');
    });

    it(`over ${protocol}: each event arrives decodable on its own, before the next is written`, DEADLOCK, async () => {
      const { handler, gates } = events(3, 'writeHead');
      const server = await behind(handler, protocol);
      const opened = await open(protocol, server, '/events', { 'accept-encoding': 'gzip' });
      const decoded = new DecodedStream(opened.body, 'gzip');
      let expected = '';
      for (let i = 0; i < 3; i++) {
        gates[i]!.resolve();
        expected += `id: ${i}\ndata: event number ${i}\n\n`;
        expect(await decoded.until((t) => t.length >= expected.length)).toBe(expected);
      }
    });
  }

  it('an event stream started with setHeader() and flushHeaders() sends its head at once too', DEADLOCK, async () => {
    const { handler, gates } = events(1, 'flushHeaders');
    const server = await behind(handler);
    const opened = await open('HTTP/1.1', server, '/events', { 'accept-encoding': 'br' });
    expect(opened.headers['content-encoding']).toBe('br');
    gates[0]!.resolve();
    expect(await new DecodedStream(opened.body, 'br').until((t) => t.endsWith('\n\n'))).toBe('id: 0\ndata: event number 0\n\n');
  });

  it('with minimum_length 4096, events sent every 50 ms each arrive decoded within 100 ms, compressed', async () => {
    // Send times, recorded by the handler in this same process: the client measures against them.
    const sent: number[] = [];
    const server = await behind(
      async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (let i = 0; i < 5; i++) {
          // The pacing is the behaviour under test (a live feed), not a wait for something.
          await delay(50);
          sent[i] = performance.now();
          res.write(`data: tick ${i}\n\n`);
        }
        res.end();
      },
      'HTTP/1.1',
      { encodings: { gzip: {} }, minimumLength: 4096 },
    );
    const opened = await open('HTTP/1.1', server, '/events', { 'accept-encoding': 'gzip' });
    expect(opened.headers['content-encoding']).toBe('gzip');
    const arrived: number[] = [];
    const decoded = new DecodedStream(opened.body, 'gzip', (t) => {
      const now = performance.now();
      for (let i = arrived.length; i < 5 && t.includes(`data: tick ${i}\n\n`); i++) arrived[i] = now;
    });
    await decoded.done;
    expect(arrived).toHaveLength(5);
    for (let i = 0; i < 5; i++) expect(arrived[i]! - sent[i]!).toBeLessThan(100);
  });
});
