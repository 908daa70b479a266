/**
 * A handler that answers without reading the request body. A small body is drained so the
 * keep-alive connection stays usable and in step; a large one (over 1 MiB, or of unknown length)
 * closes the connection after the response instead of reading what nobody wants. Either way no
 * byte of the body is ever parsed as a request: each body starts with a complete request line
 * that must never be answered.
 */
import { describe, expect, it } from 'vitest';
import { HttpError, type FerryRequest, type ResponseWriter } from '@ferry/core';
import { parseResponse, parseResponses, rawSocket, startServer } from './helpers/net.js';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n';

/** A body of `size` bytes that begins with a whole HTTP request. */
const bodyOf = (size: number) => Buffer.concat([Buffer.from(SMUGGLED), Buffer.alloc(size - SMUGGLED.length, 'a')]);

const answers = {
  /** The handler writes a whole 413 itself. */
  '/refuse': async (_req: FerryRequest, res: ResponseWriter) => {
    res.statusCode = 413;
    res.end('too large\n');
  },
  /** The handler throws; the server writes the 413. */
  '/throw': async () => {
    throw new HttpError(413, 'too large');
  },
  /** The handler writes nothing: Caddy's empty 200. */
  '/ignore': async () => {},
} as const;

const server = () =>
  startServer({
    handler: async (req, res) => {
      const answer = answers[req.path as keyof typeof answers];
      if (answer) return answer(req, res);
      res.end(`path ${req.path}\n`);
    },
  });

const expectedStatus = (path: keyof typeof answers) => (path === '/ignore' ? 200 : 413);

describe('a small unread body (10 KiB, Content-Length)', () => {
  it.each(Object.keys(answers) as (keyof typeof answers)[])(
    'is drained after %s: the next request on the socket is answered in step',
    async (path) => {
      const s = await server();
      const conn = await rawSocket(s.url);
      conn.socket.write(
        Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10240\r\n\r\n`), bodyOf(10240)]),
      );
      const first = parseResponse(await conn.waitFor((b) => parseResponse(b) !== undefined))!;
      expect(first.status).toBe(expectedStatus(path));
      expect(first.headers.connection?.toLowerCase()).toBe('keep-alive');
      conn.socket.write('GET /second HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const all = parseResponses(await conn.waitFor((b) => parseResponses(b).length >= 2));
      expect(all.map((r) => r.status)).toEqual([expectedStatus(path), 200]);
      expect(all[1]!.body.toString()).toBe('path /second\n');
      expect(conn.socket.destroyed).toBe(false);
    },
  );

  it('is drained when it arrives only after the response: the body is not taken for the next request', async () => {
    const s = await server();
    const conn = await rawSocket(s.url);
    conn.socket.write('POST /refuse HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10240\r\n\r\n');
    expect(parseResponse(await conn.waitFor((b) => parseResponse(b) !== undefined))!.status).toBe(413);
    conn.socket.write(bodyOf(10240));
    conn.socket.write('GET /second HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const all = parseResponses(await conn.waitFor((b) => parseResponses(b).length >= 2));
    expect(all.map((r) => r.body.toString())).toEqual(['too large\n', 'path /second\n']);
  });
});

/**
 * Sends a 5 MiB body (Content-Length or chunked), ignoring write errors once the server closes,
 * and returns every byte received until the server closed the connection.
 */
async function bigUpload(url: string, path: string, framing: 'content-length' | 'chunked') {
  const size = 5 * 1024 * 1024;
  const conn = await rawSocket(url);
  const head = `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${framing === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`}\r\n\r\n`;
  conn.socket.write(head);
  const body = bodyOf(size);
  for (let at = 0; at < size && !conn.socket.destroyed; at += 64 * 1024) {
    const piece = body.subarray(at, at + 64 * 1024);
    conn.socket.write(
      framing === 'chunked' ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece,
    );
  }
  if (framing === 'chunked') conn.socket.write('0\r\n\r\n');
  // A keep-alive answer is the failure mode: look at the first response as soon as it is whole.
  const first = parseResponse(await conn.waitFor((b) => parseResponse(b) !== undefined))!;
  return { first, conn };
}

describe.each(['content-length', 'chunked'] as const)('a large unread body (5 MiB, %s)', (framing) => {
  for (const path of Object.keys(answers) as (keyof typeof answers)[]) {
    it(`closes the connection after ${path} instead of draining it`, async () => {
      const s = await server();
      const { first, conn } = await bigUpload(s.url, path, framing);
      expect(first.status).toBe(expectedStatus(path));
      expect(first.headers.connection?.toLowerCase()).toBe('close');
      await conn.closed;
      // Nothing after the one response: no byte of the body was answered as a request.
      expect(parseResponses(conn.received()).map((r) => r.status)).toEqual([expectedStatus(path)]);
    }, 10_000);
  }
});
