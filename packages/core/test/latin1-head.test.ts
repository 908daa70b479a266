/**
 * A head field may hold bytes ≥ 0x80 (as Latin-1 characters: an upstream's raw UTF-8 filename, a
 * decoded path from a placeholder). They must leave as those bytes, one each, however the body
 * goes out. Node's own writer joins a string first chunk to the head and writes both as UTF-8,
 * and flushHeaders() does so with an empty string (latin1_head.ts): the field then reached the
 * client encoded twice. Checked on the wire with a raw socket, with a second request on the same
 * connection to show the framing held — from Ferry's own server, and from Ferry mounted in a plain
 * node:http server (toNodeHandler), whose own response objects carry the same fixes.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defer } from '@ferry/test-kit/lifecycle';
import { describe, expect, it } from 'vitest';
import { type Handler, toNodeHandler } from '../src/index.js';
import { useServers } from './helpers/http.js';
import { rawClient } from './helpers/raw.js';

const ferry = useServers();

/** Ferry's routes (here one handler) inside `http.createServer`: the host makes the response objects. */
async function mounted({ handler }: { handler: Handler }): Promise<{ url: string }> {
  const listener = toNodeHandler({ handler, logger: false });
  const host = createServer(listener);
  host.listen(0, '127.0.0.1');
  await once(host, 'listening');
  defer(async () => {
    host.closeAllConnections();
    host.close();
    await listener.close();
  });
  return { url: `http://127.0.0.1:${(host.address() as AddressInfo).port}` };
}

const hosts = [
  ['a Ferry server', ferry],
  ['toNodeHandler in node:http', mounted],
] as const;
/** "café.txt" as UTF-8 bytes, each byte one Latin-1 character: how such a field is held. */
const NAME = Buffer.from('café.txt', 'utf8').toString('latin1');

const answers: [string, Handler][] = [
  ['end(string)', async (_req, res) => void res.end('ok')],
  ['end(string past ASCII)', async (_req, res) => void res.end('€ ok')],
  ['end(string, "utf-8")', async (_req, res) => void res.end('ok', 'utf-8')],
  ['end(string, null)', async (_req, res) => void res.end('ok', null as unknown as BufferEncoding)],
  ['end(Buffer)', async (_req, res) => void res.end(Buffer.from('ok'))],
  [
    'write(string) with Content-Length',
    async (_req, res) => {
      res.setHeader('content-length', 4);
      res.write('ok');
      res.end('!!');
    },
  ],
  [
    'flush(), then a string',
    async (_req, res) => {
      res.flush();
      res.end('ok');
    },
  ],
  ['writeHead, then end(string)', async (_req, res) => void res.writeHead(200, { 'x-also': NAME }).end('ok')],
];

describe.each(hosts)('a head field holding bytes past ASCII, from %s', (_host, serve) => {
  it.each(answers)('goes out byte for byte beside %s, and the connection stays in step', async (name, answer) => {
    const server = await serve({
      handler: (req, res) => {
        res.setHeader('x-name', NAME);
        return answer(req, res);
      },
    });
    const client = await rawClient(server.url);
    client.socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const all = await client.waitFor((s) => s.split('HTTP/1.1 200').length === 3 && /(ok|!!)\r?\n?(0\r\n\r\n)?$/.test(s));
    const heads = all.split('HTTP/1.1 200').slice(1);
    for (const head of heads) {
      // The client got the raw bytes as Latin-1 characters: exactly NAME, not NAME encoded again.
      expect(head).toContain(`\r\nx-name: ${NAME}\r\n`);
      if (head.includes('x-also')) expect(head).toContain(`\r\nx-also: ${NAME}\r\n`);
    }
    if (name.includes('past ASCII')) expect(all).toContain(Buffer.from('€ ok').toString('latin1'));
  });

  it.each([
    ['a string', 'ok'],
    ['a Buffer', Buffer.from('ok')],
  ])(
    'in Content-Disposition, goes out byte for byte with a body of known length (%s), which keeps its Content-Length',
    async (_kind, body) => {
      // Node reads that one field's bytes as UTF-8 when it knows the length (nodejs/node#46528).
      const server = await serve({
        handler: async (_req, res) => {
          res.setHeader('content-disposition', `attachment; filename="${NAME}"`);
          res.end(body);
        },
      });
      const client = await rawClient(server.url);
      client.socket.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n');
      const all = await client.waitFor((s) => s.split('HTTP/1.1 200').length === 3 && s.endsWith('\r\n\r\n'));
      const [get, head] = all.split('HTTP/1.1 200').slice(1);
      expect(get).toContain(`\r\ncontent-disposition: attachment; filename="${NAME}"\r\n`);
      expect(get).toMatch(/\r\ncontent-length: 2\r\n/i);
      expect(get!.endsWith('\r\n\r\nok')).toBe(true);
      expect(head).toContain(`\r\ncontent-disposition: attachment; filename="${NAME}"\r\n`);
    },
  );
});
