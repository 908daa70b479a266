/**
 * A small first body chunk given as bytes leaves with the head in one buffer (head_join.ts): Node
 * would queue the head, the chunk and end()'s own empty send apart and hand the socket a writev of
 * three chunks. What must hold: the bytes on the wire are Node's (head as latin1, then the body),
 * byte for byte at every size on either side of the limit and however the body is written;
 * callbacks still run; a lent chunk may be reused once its callback ran; the connection stays in
 * step. And the point of it: one write to the socket, no writev — also for a string body, where
 * end()'s own empty send made Node's single head-and-text string a writev.
 */
import { Agent, get, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JOIN_LIMIT } from '../src/head_join.js';
import type { Handler } from '../src/index.js';
import { useServers } from './helpers/http.js';
import { rawClient } from './helpers/raw.js';

const serve = useServers();

/** Bytes that show a shift or a swap: each position holds its own value. */
function body(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

/** "café" as UTF-8 bytes, one Latin-1 character each: a head field that must leave as those bytes. */
const NAME = Buffer.from('café', 'utf8').toString('latin1');

type Answer = (res: Parameters<Handler>[1], data: Buffer) => Promise<void> | void;

const answers: [string, Answer][] = [
  ['end(bytes)', (res, data) => void res.end(data)],
  [
    'end(bytes, callback)',
    (res, data) =>
      new Promise<void>((resolve) => {
        res.end(data, resolve);
      }),
  ],
  [
    'write(bytes, callback), then end()',
    async (res, data) => {
      res.setHeader('content-length', data.length);
      await new Promise<void>((resolve, reject) => res.write(data, (err) => (err ? reject(err) : resolve())));
      res.end();
    },
  ],
  [
    'a lent chunk, overwritten once its callback ran',
    async (res, data) => {
      const lent = Buffer.from(data);
      res.setHeader('content-length', lent.length);
      await new Promise<void>((resolve) => res.write(lent, () => resolve()));
      lent.fill(0x21);
      res.end();
    },
  ],
  ['writeHead, then end(bytes)', (res, data) => void res.writeHead(201, { 'x-also': NAME }).end(data)],
  [
    'chunked: write(bytes) twice, then end()',
    (res, data) => {
      res.write(data.subarray(0, data.length >> 1));
      res.write(data.subarray(data.length >> 1));
      res.end();
    },
  ],
];

const sizes = [0, 1, 13, JOIN_LIMIT - 1, JOIN_LIMIT, JOIN_LIMIT + 1, 64 * 1024];

/** GETs `/size` for each size over one kept-alive connection: status, the x-name field as received, the body. */
async function getAll(url: string, paths: number[]) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  try {
    const out: { status: number; name: string | undefined; body: Buffer }[] = [];
    for (const n of paths) {
      const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${url}/${n}`, { agent }, resolve).on('error', reject));
      sockets.add(res.socket);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      out.push({ status: res.statusCode!, name: res.headers['x-name'] as string | undefined, body: Buffer.concat(chunks) });
    }
    return { out, connections: sockets.size };
  } finally {
    agent.destroy();
  }
}

describe('a small first body chunk leaves with the head', () => {
  it.each(answers)('%s: every size byte for byte, head bytes kept, one connection throughout', async (_name, answer) => {
    const server = await serve({
      handler: async (req, res) => {
        res.setHeader('x-name', NAME);
        await answer(res, body(Number(req.path.slice(1))));
      },
    });
    const { out, connections } = await getAll(server.url, sizes);
    expect(connections).toBe(1);
    sizes.forEach((n, i) => {
      expect(out[i]!.status).toBeOneOf([200, 201]);
      // Node's client reads the field as latin1: exactly NAME, not NAME encoded again.
      expect(out[i]!.name).toBe(NAME);
      expect(out[i]!.body.equals(body(n)), `body of ${n} bytes`).toBe(true);
    });
  });

  it('a HEAD request gets the head alone, and the next response follows in step', async () => {
    const server = await serve({ handler: async (_req, res) => void res.end(body(13)) });
    const client = await rawClient(server.url);
    client.socket.write('HEAD /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const tail = body(13).toString('latin1');
    const all = await client.waitFor((s) => s.split('HTTP/1.1 200').length === 3 && s.endsWith(tail));
    const [head, getResponse] = all.split('HTTP/1.1 200').slice(1);
    expect(head).toMatch(/\r\n\r\n$/);
    expect(getResponse!.slice(getResponse!.indexOf('\r\n\r\n') + 4)).toBe(tail);
  });

  it('end(bytes) and end(text) reach the socket as one write, not a writev; past the limit, a writev of bytes only', async () => {
    const calls = new Map<number, { write: number; writev: number; strings: number }>();
    const server = await serve({
      handler: async (req, res) => {
        // Counts the socket's own writes for this response: the real socket, observed, not replaced.
        const socket = req.raw.socket as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
        const count = { write: 0, writev: 0, strings: 0 };
        const size = Number(req.path.slice(1));
        calls.set(size, count);
        const write = socket._write;
        const writev = socket._writev;
        socket._write = function (this: Socket, ...a: unknown[]) {
          count.write++;
          return write.apply(this, a);
        };
        socket._writev = function (this: Socket, ...a: unknown[]) {
          count.writev++;
          count.strings += (a[0] as { chunk: unknown }[]).filter((c) => typeof c.chunk === 'string').length;
          return writev.apply(this, a);
        };
        res.on('finish', () => {
          socket._write = write;
          socket._writev = writev;
        });
        if (size === 3) return void res.end('Hello, World!');
        if (size > 3) return void res.end(body(size));
        // Chunked (no length): size lines and the last chunk are Node's latin1 strings.
        const data = body(100);
        res.write(data.subarray(0, 40));
        res.write(data.subarray(40));
        // 1: all in one tick; 2: the first chunk (with the head) on the wire before the rest.
        if (size === 2) await new Promise<void>((resolve) => setImmediate(resolve));
        res.end();
      },
    });
    for (const size of [13, JOIN_LIMIT, JOIN_LIMIT + 1, 1, 2]) {
      const res = await fetch(`${server.url}/${size}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(body(size > 3 ? size : 100))).toBe(true);
    }
    expect(await (await fetch(`${server.url}/3`)).text()).toBe('Hello, World!');
    expect(calls.get(13)).toEqual({ write: 1, writev: 0, strings: 0 });
    // A string body: Node joins it to the head; end's empty send no longer makes that a writev.
    expect(calls.get(3)).toEqual({ write: 1, writev: 0, strings: 0 });
    expect(calls.get(JOIN_LIMIT)).toEqual({ write: 1, writev: 0, strings: 0 });
    // Past the limit: head and chunk apart, in one writev as Node sends them, but every chunk
    // bytes (a string among them costs Node's native writev a second pass).
    expect(calls.get(JOIN_LIMIT + 1)).toEqual({ write: 0, writev: 1, strings: 0 });
    // Chunked: the head joined to the first size line, every chunk of every writev bytes.
    for (const size of [1, 2]) {
      expect(calls.get(size)).toMatchObject({ strings: 0 });
      expect(calls.get(size)!.write + calls.get(size)!.writev).toBeGreaterThanOrEqual(1);
    }
    expect(calls.get(2)!.write + calls.get(2)!.writev).toBeGreaterThanOrEqual(2);
  });
});
