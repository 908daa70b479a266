/**
 * Field lesson 2: takeover exists for real protocol switches and loses no byte — a client that
 * sends its first line in the same write as the Upgrade request gets it answered. Where there is
 * no connection to take over (h2, h2c, a plain request) that is a clear error and a `false`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ResponseWriterWrapper, type FerryRequest, type ResponseWriter } from '@ferry/core';
import { canSwitchProtocols, switchProtocols, TakeoverUnavailableError } from '../src/index.js';
import { parseResponse, rawSocket, startServer } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Connect } from '@ferry/test-kit/clients';
import { h2Exchange } from '@ferry/test-kit/exchange';

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** The `lines` protocol: every line is answered `<length> <sha256 prefix>`; `bye` ends the connection. */
function serveLines(conn: Duplex): void {
  let buf = '';
  conn.setEncoding('utf8');
  conn.on('error', () => {});
  conn.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'bye') return void conn.end('bye\n');
      conn.write(`${line.length} ${digest(line)}\n`);
    }
  });
}

const linesServer = () =>
  startServer({
    handler: async (_req, res) => {
      if (!canSwitchProtocols(res)) {
        res.statusCode = 426;
        res.setHeader('upgrade', 'lines');
        res.end();
        return;
      }
      serveLines(switchProtocols(res, 'lines', { 'x-lines-version': '1' }));
    },
  });

const upgradeRequest = 'GET /chat HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: lines\r\n\r\n';

/** The answer lines after the 101 head, once `count` of them have arrived. */
async function answers(conn: Awaited<ReturnType<typeof rawSocket>>, count: number) {
  const all = await conn.waitFor((b) => {
    const head = b.indexOf('\r\n\r\n');
    return (
      head !== -1 &&
      b
        .subarray(head + 4)
        .toString('latin1')
        .split('\n').length > count
    );
  });
  const head = parseResponse(all)!;
  return { head, lines: head.rest.toString('latin1').split('\n').slice(0, count) };
}

describe('switchProtocols on HTTP/1.1 (field lesson 2)', () => {
  it('loses no byte when the first line comes in the same write as the Upgrade request', async () => {
    const server = await linesServer();
    const conn = await rawSocket(server.url);
    conn.socket.write(`${upgradeRequest}hello\nworld\n`);
    const { head, lines } = await answers(conn, 2);
    expect(head.status).toBe(101);
    expect(head.headers.upgrade).toBe('lines');
    expect(head.headers.connection?.toLowerCase()).toBe('upgrade');
    expect(head.headers['x-lines-version']).toBe('1');
    expect(lines).toEqual([`5 ${digest('hello')}`, `5 ${digest('world')}`]);
    // The connection is the protocol's now: more lines, then its own way to end.
    conn.socket.write('again\nbye\n');
    await conn.closed;
    expect(
      conn
        .received()
        .toString('latin1')
        .endsWith(`5 ${digest('again')}\nbye\n`),
    ).toBe(true);
  });

  it('loses no byte of a 256 KiB first payload sent with the Upgrade request', async () => {
    const server = await linesServer();
    const conn = await rawSocket(server.url);
    const big = randomBytes(192 * 1024).toString('base64'); // 256 KiB of line-safe text
    expect(big.length).toBe(256 * 1024);
    conn.socket.write(`${upgradeRequest}${big}\nsmall\n`);
    const { head, lines } = await answers(conn, 2);
    expect(head.status).toBe(101);
    expect(lines).toEqual([`${big.length} ${digest(big)}`, `5 ${digest('small')}`]);
  });

  it('loses no byte when the first line is split across the head and a later packet', async () => {
    const server = await linesServer();
    const conn = await rawSocket(server.url);
    conn.socket.write(`${upgradeRequest}hel`);
    await conn.waitFor((b) => b.includes('\r\n\r\n'));
    conn.socket.write('lo\n');
    const { lines } = await answers(conn, 1);
    expect(lines).toEqual([`5 ${digest('hello')}`]);
  });

  it('answers a plain GET without Upgrade normally (canSwitchProtocols is false)', async () => {
    const server = await linesServer();
    const conn = await rawSocket(server.url);
    conn.socket.write('GET /chat HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const res = parseResponse(await conn.waitFor((b) => parseResponse(b) !== undefined))!;
    expect(res.status).toBe(426);
  });
});

/** A server whose handler tries switchProtocols and reports what happened as JSON. */
async function attemptServer(options: Parameters<typeof startServer>[0] = {}) {
  return startServer({
    ...options,
    handler: async (_req: FerryRequest, res: ResponseWriter) => {
      const can = canSwitchProtocols(res);
      const hijack = typeof res.hijack;
      try {
        switchProtocols(res, 'lines');
        res.end(JSON.stringify({ can, hijack, threw: false }));
      } catch (err) {
        const e = err as TakeoverUnavailableError;
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            can,
            hijack,
            threw: true,
            isTakeoverError: e instanceof TakeoverUnavailableError,
            code: e.code,
            message: e.message,
          }),
        );
      }
    },
  });
}

async function h2Attempt(url: string, ca?: Buffer) {
  const ex = h2Exchange(h2Connect(url, { ca }), '/chat');
  ex.end();
  const { body } = await ex.response;
  let text = '';
  for await (const c of body) text += String(c);
  return JSON.parse(text) as Record<string, unknown>;
}

describe('switchProtocols where there is no connection to take over', () => {
  it.each(['h2', 'h2c'] as const)('throws TakeoverUnavailableError naming HTTP/2 on %s, and canSwitchProtocols is false', async (proto) => {
    const { tls, ca } = certificates();
    const server = await attemptServer(proto === 'h2' ? { tls, protocols: ['h1', 'h2'] } : { protocols: ['h1', 'h2c'] });
    const r = await h2Attempt(server.url, proto === 'h2' ? ca : undefined);
    expect(r).toMatchObject({
      can: false,
      hijack: 'undefined',
      threw: true,
      isTakeoverError: true,
      code: 'FERRY_ERR_TAKEOVER_UNAVAILABLE',
    });
    expect(r.message).toMatch(/HTTP\/2/);
    expect(r.message).toMatch(/duplex\(\)/);
  });

  it('throws with a message about the Upgrade header on a plain HTTP/1.1 GET', async () => {
    const server = await attemptServer();
    const conn = await rawSocket(server.url);
    conn.socket.write('GET /chat HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const r = JSON.parse(parseResponse(await conn.waitFor((b) => parseResponse(b) !== undefined))!.body.toString()) as Record<
      string,
      unknown
    >;
    expect(r).toMatchObject({ can: false, threw: true, isTakeoverError: true });
    expect(r.message).toMatch(/Upgrade/);
    expect(r.message).not.toMatch(/HTTP\/2/);
  });

  it('names the right cause on HTTP/1.1 with full duplex on, behind a wrapping middleware', async () => {
    // fullDuplex is true here, and the wrapper hides Node's ServerResponse: still HTTP/1.1, not HTTP/2.
    const server = await startServer({
      enableFullDuplex: true,
      handler: [
        (req, res, next) => next(req, new ResponseWriterWrapper(res)),
        async (_req, res) => {
          try {
            switchProtocols(res, 'lines');
          } catch (err) {
            res.end((err as Error).message);
          }
        },
      ],
    });
    const conn = await rawSocket(server.url);
    conn.socket.write('GET /chat HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const message = parseResponse(await conn.waitFor((b) => parseResponse(b) !== undefined))!.body.toString();
    expect(message).toMatch(/Upgrade/);
    expect(message).not.toMatch(/HTTP\/2/);
  });

  it('names HTTP/2 on h2c behind a wrapping middleware too', async () => {
    const server = await startServer({
      protocols: ['h1', 'h2c'],
      handler: [
        (req, res, next) => next(req, new ResponseWriterWrapper(res)),
        async (_req, res) => {
          try {
            switchProtocols(res, 'lines');
          } catch (err) {
            res.end((err as Error).message);
          }
        },
      ],
    });
    const ex = h2Exchange(h2Connect(server.url), '/chat');
    ex.end();
    const { body } = await ex.response;
    let text = '';
    for await (const c of body) text += String(c);
    expect(text).toMatch(/HTTP\/2/);
  });
});
