/**
 * The HTTP/1.1 upstream client against an upstream that answers with bytes meant to be read two
 * ways (response splitting, smuggling through a reused connection): every such answer is refused
 * with 502, and the connection it came on is closed, never reused.
 */
import { describe, expect, it } from 'vitest';
import { startProxy } from './helpers/net.js';
import { fetchOutcome, rawUpstream, sizedResponse } from './helpers/raw-h1.js';
import { h1Get } from '@ferry/test-kit/clients';
import { within } from '@ferry/test-kit/waiting';

const OK = 'HTTP/1.1 200 OK\r\n';

/** Answers that must be refused: the bytes the upstream writes for the proxy's GET. */
const REFUSED: [string, string][] = [
  ['a bare LF inside a header value', `${OK}X-A: one\nX-Injected: two\r\nContent-Length: 2\r\n\r\nok`],
  ['a bare CR inside a header value', `${OK}X-A: one\rX-Injected: two\r\nContent-Length: 2\r\n\r\nok`],
  ['a bare LF ending a header line', `${OK}X-A: one\nContent-Length: 2\r\n\r\nok`],
  ['an obs-fold line', `${OK}X-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok`],
  ['an obs-fold line with a tab', `${OK}X-A: one\r\n\ttwo\r\nContent-Length: 2\r\n\r\nok`],
  ['a space before the colon', `${OK}Content-Length : 2\r\n\r\nok`],
  ['a NUL in a value', `${OK}X-A: o\x00ne\r\nContent-Length: 2\r\n\r\nok`],
  ['a control byte (0x0b) in a value', `${OK}X-A: o\x0bne\r\nContent-Length: 2\r\n\r\nok`],
  ['DEL in a value', `${OK}X-A: o\x7fne\r\nContent-Length: 2\r\n\r\nok`],
  ['a line without a colon', `${OK}X-A one\r\nContent-Length: 2\r\n\r\nok`],
  ['an empty field name', `${OK}: one\r\nContent-Length: 2\r\n\r\nok`],
  ['Content-Length and Transfer-Encoding together', `${OK}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`],
  ['Transfer-Encoding and Content-Length together', `${OK}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n`],
  ['two different Content-Lengths', `${OK}Content-Length: 2\r\nContent-Length: 3\r\n\r\nok!`],
  ['Content-Length +5', `${OK}Content-Length: +5\r\n\r\nhello`],
  ['Content-Length 0x5', `${OK}Content-Length: 0x5\r\n\r\nhello`],
  ['Content-Length "5 5"', `${OK}Content-Length: 5 5\r\n\r\nhello`],
  ['Content-Length -1', `${OK}Content-Length: -1\r\n\r\nhello`],
  ['Content-Length of 16 digits', `${OK}Content-Length: 0000000000000005\r\n\r\nhello`],
  ['Content-Length empty', `${OK}Content-Length:\r\n\r\nhello`],
  ['Transfer-Encoding: gzip, chunked', `${OK}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`],
  ['Transfer-Encoding: chunked, gzip', `${OK}Transfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n`],
  ['Transfer-Encoding: identity', `${OK}Transfer-Encoding: identity\r\n\r\nok`],
  ['a head over 16 KiB', `${OK}X-Big: ${'a'.repeat(17 * 1024)}\r\nContent-Length: 2\r\n\r\nok`],
  ['a head over 16 KiB that never ends', `${OK}${'X-Many: aaaaaaaaaaaaaaaaaaaa\r\n'.repeat(700)}`],
  [
    '20 × 103 Early Hints before the final head',
    `${'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'.repeat(20)}${OK}Content-Length: 2\r\n\r\nok`,
  ],
  [
    '101 Switching Protocols to an ordinary GET',
    'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: evil\r\n\r\nraw bytes',
  ],
  ['the status line HTTP/2 200', 'HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['the status line HTTP/1.1 20', 'HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['the status line HTTP/1.1 2000', 'HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['a status below 100', 'HTTP/1.1 042 Odd\r\nContent-Length: 2\r\n\r\nok'],
  ['a garbage status line', 'garbage\r\nContent-Length: 2\r\n\r\nok'],
  ['no status line at all', 'Content-Length: 2\r\n\r\nok'],
  ['a lower-case protocol name', 'http/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
];

/** An upstream that answers every request with `bytes`, and the proxy in front of it. */
async function answering(bytes: string | Buffer) {
  const up = await rawUpstream((_req, socket) => socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes));
  const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
  return { up, proxy };
}

describe('an upstream answer that could be read two ways', () => {
  it.each(REFUSED)('is refused with 502 and its connection closed: %s', async (_name, bytes) => {
    const { up, proxy } = await answering(bytes);
    const r = await fetchOutcome(proxy.url);
    expect(r.status).toBe(502);
    expect(r.headers['x-injected']).toBeUndefined();
    expect(r.body.toString('latin1')).not.toContain('ok');
    expect(up.conns).toHaveLength(1);
    // The proxy closed it: no second request may ever be read after these bytes.
    await within(up.conns[0]!.closed, 2000, 'the upstream connection closed by the proxy');
    expect(up.requests).toHaveLength(1);
  });

  it('accepts identical duplicate Content-Lengths (200, the body whole) and keeps the connection', async () => {
    const { up, proxy } = await answering(`${OK}Content-Length: 2\r\nContent-Length: 2\r\n\r\nok`);
    const first = await fetchOutcome(proxy.url);
    expect([first.status, first.body.toString(), first.end]).toEqual([200, 'ok', 'end']);
    const second = await fetchOutcome(proxy.url);
    expect([second.status, second.body.toString(), second.end]).toEqual([200, 'ok', 'end']);
    expect(up.conns).toHaveLength(1);
  });

  it('refuses disagreeing Content-Lengths on an answer to HEAD too, and collapses agreeing ones', async () => {
    const { up, proxy } = await answering(`${OK}Content-Length: 2\r\nContent-Length: 3\r\n\r\n`);
    expect((await fetchOutcome(proxy.url, { method: 'HEAD' })).status).toBe(502);
    await within(up.conns[0]!.closed, 2000, 'the upstream connection closed by the proxy');
    const agreeing = await answering(`${OK}Content-Length: 7\r\nContent-Length: 7\r\n\r\n`);
    const r = await fetchOutcome(agreeing.proxy.url, { method: 'HEAD' });
    expect([r.status, r.headers['content-length'], r.end]).toEqual([200, '7', 'end']);
  });

  it('passes on fewer than 17 Early Hints, then the final answer', async () => {
    const hints = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'.repeat(3);
    const { proxy } = await answering(`${hints}${OK}Content-Length: 2\r\n\r\nok`);
    const r = await h1Get(proxy.url);
    expect([r.status, r.body.toString()]).toEqual([200, 'ok']);
  });
});

describe('bytes past the framing of a response', () => {
  it('are never delivered: the polluted connection is closed and the next request gets a fresh answer', async () => {
    const smuggled = `${OK}Content-Length: 8\r\nX-Smuggled: yes\r\n\r\nsmuggled`;
    const up = await rawUpstream((req, socket) => {
      if (req.conn === 0) socket.write(Buffer.concat([sizedResponse('ok'), Buffer.from(smuggled)]));
      else socket.write(sizedResponse(`fresh ${req.conn}`));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const first = await fetchOutcome(proxy.url);
    expect([first.status, first.body.toString(), first.end]).toEqual([200, 'ok', 'end']);
    await within(up.conns[0]!.closed, 2000, 'the polluted connection closed by the proxy');
    const second = await fetchOutcome(proxy.url);
    expect([second.status, second.body.toString(), second.end]).toEqual([200, 'fresh 1', 'end']);
    expect(second.headers['x-smuggled']).toBeUndefined();
    expect(up.conns).toHaveLength(2);
    expect(up.conns[0]!.requests).toHaveLength(1);
  });

  it('sent after a HEAD answer (a body the HEAD must not have) close the connection too', async () => {
    const up = await rawUpstream((req, socket) => {
      if (req.conn === 0) socket.write(sizedResponse('body of a HEAD'));
      else socket.write(sizedResponse('fresh'));
    });
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const head = await fetchOutcome(proxy.url, { method: 'HEAD' });
    expect([head.status, head.body.length, head.end]).toEqual([200, 0, 'end']);
    await within(up.conns[0]!.closed, 2000, 'the connection with a HEAD body closed by the proxy');
    const next = await fetchOutcome(proxy.url);
    expect(next.body.toString()).toBe('fresh');
    expect(up.conns).toHaveLength(2);
  });
});
