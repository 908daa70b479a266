/**
 * Reads freed once the socket they are forwarded to took them (@ferry/core's release_reads.ts): on Node 22 and
 * later each request-body read Node's parser copied for Ferry alone, and each read of a relayed
 * WebSocket, is detached after its write; a read another listener also got, or a handler still
 * holds part of, is left alone, and every byte reaches every reader whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { IncomingMessage, request as httpRequest } from 'node:http';
import { Socket } from 'node:net';
import type { Middleware } from '@ferry/core';
import { portOf } from '@ferry/test-kit/servers';
import { httpUpstream, wsEchoUpstream } from '@ferry/test-kit/upstreams';
import { within } from '@ferry/test-kit/waiting';
import { describe, expect, it } from 'vitest';
import { MIN_RELEASED } from '@ferry/core/internal';
import { defer, startProxy, wsClient } from './helpers/net.js';

const BODY = randomBytes(2 * 1024 * 1024 + 123);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Node 22+: `ArrayBuffer.prototype.transfer`, what the proxy frees reads with. */
const canFree = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

/** Every body read Node's parser hands to a request on `port`, and its length then (a reference kept, no listener added). */
function parserReads(port: () => number): { read: Buffer; length: number }[] {
  const reads: { read: Buffer; length: number }[] = [];
  const proto = IncomingMessage.prototype as unknown as { push(chunk: unknown): boolean };
  const push = proto.push;
  defer(() => {
    proto.push = push;
  });
  proto.push = function (this: IncomingMessage, chunk: unknown) {
    if (Buffer.isBuffer(chunk) && chunk.length > 0 && this.socket?.localPort === port()) reads.push({ read: chunk, length: chunk.length });
    return push.call(this, chunk);
  };
  return reads;
}

/** An upstream that answers with the SHA-256 of the body it read. */
function hashingUpstream() {
  return httpUpstream('hashing', (req, res) => {
    const hash = createHash('sha256');
    req.on('data', (c: Buffer) => hash.update(c));
    req.on('end', () => res.end(hash.digest('hex')));
  });
}

/** POSTs BODY to `port` in 64 KiB writes, with a Content-Length or chunked; the answer's body. */
function upload(port: number, chunked: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(BODY.length) };
    const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/up', headers }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`status ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    for (let at = 0; at < BODY.length; at += 64 * 1024) req.write(BODY.subarray(at, at + 64 * 1024));
    req.end();
  });
}

describe.each([false, true])('a proxied upload (chunked: %s)', (chunked) => {
  it('reaches the upstream whole, and each read of 4 KiB or more is freed once written (Node 22+)', async () => {
    const up = await hashingUpstream();
    let port = 0;
    const reads = parserReads(() => port);
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    port = portOf(proxy);
    expect(await within(upload(port, chunked), 10_000, 'the upload')).toBe(sha(BODY));
    // Chunked framing is the parser's, not the body's: its reads hold the body bytes only.
    expect(reads.reduce((n, r) => n + r.length, 0)).toBe(BODY.length);
    // Reads below MIN_RELEASED (a read that ends the body or a chunk, say) are left to the collector.
    expect(reads.filter((r) => r.length >= MIN_RELEASED).length).toBeGreaterThanOrEqual(16);
    const wrong = reads.filter((r) => (r.read.buffer.byteLength === 0) !== (canFree && r.length >= MIN_RELEASED));
    expect(wrong.map((r) => r.length)).toEqual([]);
  });

  it('a read another listener also got is not freed: that reader gets every byte too', async () => {
    const up = await hashingUpstream();
    let port = 0;
    const reads = parserReads(() => port);
    const tee: Buffer[] = [];
    // A handler before the proxy that keeps what it sees of the body (an audit log, say): it
    // listens as the proxy starts to, so that neither misses a read.
    const audit: Middleware = async (req, res, next) => {
      const raw = req.raw as IncomingMessage;
      raw.on('newListener', function alongside(event: string | symbol) {
        if (event !== 'data') return;
        raw.off('newListener', alongside);
        raw.on('data', (c: Buffer) => tee.push(c));
      });
      await next(req, res);
    };
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [audit] });
    port = portOf(proxy);
    expect(await within(upload(port, chunked), 10_000, 'the upload')).toBe(sha(BODY));
    expect(sha(Buffer.concat(tee))).toBe(sha(BODY));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((r) => r.read.length !== r.length)).toEqual([]);
  });

  it('reads a handler peeked at are not freed: the peeked bytes stay, the upstream gets every byte', async () => {
    const up = await hashingUpstream();
    let peeked: Buffer | undefined;
    // A handler that looks at the body's first bytes and puts them back: what it read and what is
    // left are slices of one read of the parser's, the first still held by the handler.
    const sniff: Middleware = async (req, res, next) => {
      const body = req.body;
      await once(body, 'readable');
      peeked = body.read(16) as Buffer;
      body.unshift(peeked);
      await next(req, res);
    };
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] }, { before: [sniff] });
    expect(await within(upload(portOf(proxy), chunked), 10_000, 'the upload')).toBe(sha(BODY));
    expect(peeked?.equals(BODY.subarray(0, 16))).toBe(true);
  });
});

describe('a relayed WebSocket', () => {
  it('echoes every message byte for byte, and each read of 4 KiB or more the relay forwarded is freed once written (Node 22+)', async () => {
    const up = await wsEchoUpstream();
    const proxy = await startProxy({ upstreams: [{ dial: up.dial }] });
    const [proxyPort, upPort] = [portOf(proxy), Number(up.dial.split(':')[1])];
    // Reads of the relay's two sockets: the client's at the proxy, and the proxy's to the upstream.
    const reads: { read: Buffer; length: number; start: string }[] = [];
    const proto = Socket.prototype as unknown as { push(chunk: unknown): boolean };
    const own = Object.getOwnPropertyDescriptor(proto, 'push');
    defer(() => {
      if (own) Object.defineProperty(proto, 'push', own);
      else delete (proto as { push?: unknown }).push;
    });
    const push = proto.push;
    proto.push = function (this: Socket, chunk: unknown) {
      const relayed = this.localPort === proxyPort || this.remotePort === upPort;
      if (relayed && Buffer.isBuffer(chunk) && chunk.length > 0)
        reads.push({ read: chunk, length: chunk.length, start: chunk.toString('latin1', 0, 5) });
      return push.call(this, chunk);
    };
    const ws = await wsClient(proxy.url.replace('http', 'ws'));
    for (let i = 0; i < 50; i++) {
      // Every other message below MIN_RELEASED, left to the collector.
      const message = randomBytes(i % 2 ? 1 + ((i * 7919) % 1000) : MIN_RELEASED + ((i * 7919) % 16_000));
      ws.send(message);
      const [echo] = (await within(once(ws, 'message'), 5000, `echo ${i}`)) as [Buffer];
      expect(sha(echo)).toBe(sha(message));
    }
    // Past the handshake heads (read by Node's HTTP parsers, not the relay), every relayed read.
    const relayed = reads.filter((r) => !r.start.startsWith('GET ') && r.start !== 'HTTP/');
    expect(relayed.filter((r) => r.length >= MIN_RELEASED).length).toBeGreaterThanOrEqual(50);
    expect(relayed.filter((r) => r.length < MIN_RELEASED).length).toBeGreaterThanOrEqual(25);
    const wrong = relayed.filter((r) => (r.read.buffer.byteLength === 0) !== (canFree && r.length >= MIN_RELEASED));
    expect(wrong.map((r) => r.length)).toEqual([]);
  });
});
