/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1) for handlers that read the body while they answer: a
 * 100 may not follow the final head (§15.2.1), so a full-duplex handler that sends its head first
 * gets the 100 just ahead of it. Raw sockets, so the order of bytes on the wire is what is checked.
 */
import { once } from 'node:events';
import { connect as h2connect } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FerryRequest, ResponseWriter } from '../src/index.js';
import { useServers } from './helpers/http.js';

const start = useServers();

const expectHead = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`;

/** A raw connection and every byte it received so far, with a bounded wait for a condition. */
async function rawClient(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  const waitFor = (test: (all: string) => boolean, ms = 3000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`not within ${ms}ms; received ${JSON.stringify(received)}`)), ms);
      const check = () =>
        test(received) ? finish() : socket.destroyed && finish(new Error(`closed; received ${JSON.stringify(received)}`));
      const finish = (err?: Error) => {
        clearTimeout(timer);
        socket.off('data', check).off('close', check);
        if (err) reject(err);
        else resolve(received);
      };
      socket.on('data', check).on('close', check);
      check();
    });
  return { socket, waitFor };
}

/** Reads the whole body and answers with its length. */
async function readThenAnswer(req: FerryRequest, res: ResponseWriter): Promise<void> {
  let n = 0;
  for await (const c of req.body) n += (c as Buffer).length;
  res.end(`read ${n}\n`);
}

/** Full duplex: the head goes out at once, then the body is read and its length answered. */
async function headThenRead(req: FerryRequest, res: ResponseWriter): Promise<void> {
  res.enableFullDuplex();
  res.flush();
  await readThenAnswer(req, res);
}

const finalHead = (all: string) => /HTTP\/1\.1 [2-5]\d\d /.test(all);

describe('Expect: 100-continue for handlers that read while they answer (HTTP/1.1)', () => {
  it('a full-duplex handler that sends its head before reading gets 100 Continue on the wire first', async () => {
    const server = await start({ handler: headThenRead });
    const c = await rawClient(server.url);
    c.socket.write(expectHead('/'));
    expect(await c.waitFor(finalHead)).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    c.socket.write('hello');
    expect(await c.waitFor((all) => all.includes('read 5'))).toContain('read 5\n');
    c.socket.destroy();
  });

  it('a full-duplex handler that refuses with 413 sends no 100 Continue', async () => {
    const server = await start({
      handler: async (_req, res) => {
        res.enableFullDuplex();
        res.statusCode = 413;
        res.end('too large\n');
      },
    });
    const c = await rawClient(server.url);
    c.socket.write(expectHead('/'));
    expect(await c.waitFor(finalHead)).toMatch(/^HTTP\/1\.1 413 /);
    c.socket.destroy();
  });

  it('a handler that reads the body first keeps the connection after its 100 Continue', async () => {
    const server = await start({ handler: readThenAnswer });
    const c = await rawClient(server.url);
    c.socket.write(expectHead('/'));
    await c.waitFor((all) => all.startsWith('HTTP/1.1 100 Continue\r\n\r\n'));
    c.socket.write('hello');
    const first = await c.waitFor((all) => all.includes('read 5\n'));
    expect(first).not.toMatch(/\r\nConnection: close\r\n/i);
    c.socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
    expect(await c.waitFor((all) => all.includes('read 3\n'))).toContain('read 3\n');
    c.socket.destroy();
  });
});

describe('Expect: 100-continue for handlers that read while they answer (h2c)', () => {
  /** The informational and final statuses of one POST with Expect: 100-continue whose body is sent on 100 only. */
  async function statuses(url: string): Promise<{ events: string[]; text: string }> {
    const session = h2connect(url);
    session.on('error', () => {});
    try {
      const stream = session.request(
        { ':method': 'POST', ':path': '/', expect: '100-continue', 'content-length': 5 },
        { endStream: false },
      );
      const events: string[] = [];
      stream.on('continue', () => {
        events.push('100');
        stream.end('hello');
      });
      stream.on('response', (h) => events.push(`response ${h[':status']}`));
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (text += d));
      const ended = new Promise<void>((resolve, reject) => {
        stream.once('end', resolve).once('error', reject);
        setTimeout(() => reject(new Error(`no end within 3000ms; events ${events.join(', ')}`)), 3000).unref();
      });
      await ended;
      return { events, text };
    } finally {
      session.destroy();
    }
  }

  it('a full-duplex handler that sends its head before reading gets 100 Continue first', async () => {
    const server = await start({ protocols: ['h1', 'h2c'], handler: headThenRead });
    expect(await statuses(server.url)).toEqual({ events: ['100', 'response 200'], text: 'read 5\n' });
  });

  it('a handler that never asked for full duplex and answers at once sends no 100', async () => {
    const server = await start({ protocols: ['h1', 'h2c'], handler: async (_req, res) => void res.end('no thanks\n') });
    expect(await statuses(server.url)).toEqual({ events: ['response 200'], text: 'no thanks\n' });
  });
});
