import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ResponseWriterWrapper, type Handler, type ServerOptions } from '@ferry/core';
import { defer, deferred, h1Request, h2Request, rawSocket, RawClient, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';

/**
 * Reads exactly `n` bytes from a stream without consuming more, then pauses it. Gives up after
 * 2 s (only ever reached when bytes were lost) saying how many arrived, rather than hanging.
 */
function readBytes(stream: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const lost = setTimeout(() => reject(new Error(`only ${length} of ${n} bytes arrived after the takeover`)), 2000);
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) {
        clearTimeout(lost);
        stream.off('data', onData);
        stream.pause();
        resolve(Buffer.concat(chunks));
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended after ${length} of ${n} bytes`)));
    stream.once('error', reject);
  });
}

/**
 * An upgrade handler: 101 through writeInformational, then takes the connection over, reads
 * `expected` bytes, hands them to the test, and answers "ok".
 */
function switcher(expected: number) {
  const received = deferred<Buffer>();
  const handler: Handler = async (_req, res) => {
    res.writeInformational(101, { connection: 'Upgrade', upgrade: 'echo' });
    const conn = res.hijack!();
    const data = await readBytes(conn, expected).catch((err: unknown) => {
      received.reject(err);
      throw err;
    });
    received.resolve(data);
    conn.end('ok');
  };
  return { handler, received: received.promise };
}

/** A tunnel handler for CONNECT: 200, flushed, then takeover, as switcher. */
function tunneler(expected: number) {
  const received = deferred<Buffer>();
  const handler: Handler = async (_req, res) => {
    res.writeHead(200);
    res.flush();
    const conn = res.hijack!();
    const data = await readBytes(conn, expected).catch((err: unknown) => {
      received.reject(err);
      throw err;
    });
    received.resolve(data);
    conn.end('ok');
  };
  return { handler, received: received.promise };
}

const upgradeHead = 'GET /chat HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n';

/** Sends headers and payload in one write, then checks the handler read the payload first and whole. */
async function takeoverKeepsEveryByte(client: RawClient, head: string, payload: Buffer, received: Promise<Buffer>, status: number) {
  client.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
  const got = await received;
  expect(got.length).toBe(payload.length);
  expect(got.equals(payload)).toBe(true);
  const { head: answer, rest } = await client.head();
  expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  if (rest.toString() !== 'ok') await client.until((b) => b.toString('latin1').endsWith('\r\n\r\nok'));
  await client.end();
}

describe('hijack() on HTTP/1.1 loses no byte the client sent with its headers (caddy#6273)', () => {
  for (const [label, size] of [
    ['a few bytes', 11],
    ['64 KiB', 64 * 1024],
    ['1 MiB', 1024 * 1024],
  ] as const) {
    it(`Upgrade + ${label} in the same write: the bytes come first and intact`, async () => {
      const s = switcher(size);
      const server = await startServer({ handler: s.handler });
      const client = await rawSocket(portOf(server));
      await takeoverKeepsEveryByte(client, upgradeHead, randomBytes(size), s.received, 101);
    });
  }

  for (const [label, size] of [
    ['a few bytes', 11],
    ['64 KiB', 64 * 1024],
  ] as const) {
    it(`CONNECT + ${label} in the same write: the bytes come first and intact`, async () => {
      const t = tunneler(size);
      const server = await startServer({ handler: t.handler });
      const client = await rawSocket(portOf(server));
      await takeoverKeepsEveryByte(
        client,
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
        randomBytes(size),
        t.received,
        200,
      );
    });
  }

  it('on the cleartext port shared with h2c: Upgrade + 64 KiB in the same write', async () => {
    const s = switcher(64 * 1024);
    const server = await startServer({ protocols: ['h1', 'h2c'], handler: s.handler });
    const client = await rawSocket(portOf(server));
    await takeoverKeepsEveryByte(client, upgradeHead, randomBytes(64 * 1024), s.received, 101);
  });

  it('on the HTTP/1.1 fallback of a TLS h2 server: Upgrade + 64 KiB in the same write', async () => {
    const { ca, tls: certs } = certificates();
    const s = switcher(64 * 1024);
    const server = await startServer({ tls: certs, handler: s.handler });
    const socket = tlsConnect({ host: '127.0.0.1', port: portOf(server), ca, ALPNProtocols: ['http/1.1'], servername: 'localhost' });
    defer(() => socket.destroy());
    await once(socket, 'secureConnect');
    expect(socket.alpnProtocol).toBe('http/1.1');
    await takeoverKeepsEveryByte(new RawClient(socket), upgradeHead, randomBytes(64 * 1024), s.received, 101);
  });

  it('through a ResponseWriterWrapper: the capability and the bytes reach the handler', async () => {
    const s = switcher(5);
    const wrap = async (req: Parameters<Handler>[0], res: Parameters<Handler>[1], next: Handler) =>
      next(req, new ResponseWriterWrapper(res));
    const server = await startServer({ handler: [wrap, async (req, res, _next) => s.handler(req, res)] });
    const client = await rawSocket(portOf(server));
    await takeoverKeepsEveryByte(client, upgradeHead, Buffer.from('hello'), s.received, 101);
  });
});

describe('capabilities are values', () => {
  /** Records `res.hijack` and `res.fullDuplex` as the handler sees them. */
  function probe() {
    const seen: { hijack: string; fullDuplex: boolean }[] = [];
    const handler: Handler = async (_req, res) => {
      seen.push({ hijack: typeof res.hijack, fullDuplex: res.fullDuplex });
      res.end('ok');
    };
    return { seen, handler };
  }

  it('an ordinary HTTP/1.1 request has no hijack and, by default, no full duplex', async () => {
    const p = probe();
    const server = await startServer({ handler: p.handler });
    await h1Request({ host: '127.0.0.1', port: portOf(server), path: '/' });
    expect(p.seen).toEqual([{ hijack: 'undefined', fullDuplex: false }]);
  });

  it('HTTP/1.1 is full duplex with enableFullDuplex', async () => {
    const p = probe();
    const server = await startServer({ handler: p.handler, enableFullDuplex: true });
    await h1Request({ host: '127.0.0.1', port: portOf(server), path: '/' });
    expect(p.seen).toEqual([{ hijack: 'undefined', fullDuplex: true }]);
  });

  it('h2 and h2c are full duplex and have no hijack, CONNECT included', async () => {
    const { ca, tls: certs } = certificates();
    const p = probe();
    const options: ServerOptions = { handler: p.handler };
    const h2 = await startServer({ ...options, tls: certs });
    const h2c = await startServer({ ...options, protocols: ['h1', 'h2c'] });
    const s1 = await h2Session(h2.url, { ca });
    const s2 = await h2Session(h2c.url);
    await h2Request(s1, { ':path': '/' });
    await h2Request(s1, { ':method': 'CONNECT', ':authority': 'example.com:443' }, '');
    await h2Request(s2, { ':path': '/' });
    expect(p.seen).toEqual([
      { hijack: 'undefined', fullDuplex: true },
      { hijack: 'undefined', fullDuplex: true },
      { hijack: 'undefined', fullDuplex: true },
    ]);
  });
});
