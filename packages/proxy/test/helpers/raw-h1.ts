/**
 * A raw HTTP/1.1 upstream for the transport's tests: it reads each request off the wire itself
 * (the head, then a body framed by Content-Length or chunked coding, decoded strictly) and lets
 * the test answer with exact bytes. Every connection and every byte it received is kept, so a
 * test can count connections and look for what must never have reached the upstream.
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { netUpstream } from './net.js';
import { h1Request, type H1Options } from '@ferry/test-kit/clients';
import { deferred } from '@ferry/test-kit/lifecycle';

/** One request as the upstream read it. */
export interface RawRequest {
  method: string;
  target: string;
  /** The head as received, request line and blank line included. */
  head: string;
  /** Field names lower-cased; repeated fields joined with ", ". */
  fields: Record<string, string>;
  /** The body, decoded from its framing. */
  body: Buffer;
  /** The connection it came on (0-based, in the order they were accepted) and its place on it. */
  conn: number;
  nth: number;
}

/** One connection the upstream accepted. */
export interface RawConn {
  socket: Socket;
  /** Every byte received on it, in order. */
  bytes(): Buffer;
  requests: RawRequest[];
  /** Resolves when the socket closed (the proxy dropped it, or the test did). */
  closed: Promise<void>;
  isClosed(): boolean;
}

export interface RawUpstream {
  dial: string;
  port: number;
  conns: RawConn[];
  requests: RawRequest[];
  /** Every byte received on every connection. */
  bytes(): Buffer;
}

/** Throws on framing the upstream could not read unambiguously: a test's proxy must never send such. */
class RequestReader {
  #buf = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, chunk]);
  }

  /** The next whole request, or undefined until more bytes arrive. */
  next(): Omit<RawRequest, 'conn' | 'nth'> | undefined {
    const buf = this.#buf;
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    const head = buf.toString('latin1', 0, end + 4);
    const [line, ...rest] = head.slice(0, -4).split('\r\n');
    const [method = '', target = ''] = line!.split(' ');
    const fields: Record<string, string> = {};
    for (const l of rest) {
      const colon = l.indexOf(':');
      const name = l.slice(0, colon).toLowerCase();
      const value = l.slice(colon + 1).trim();
      fields[name] = fields[name] === undefined ? value : `${fields[name]}, ${value}`;
    }
    const body =
      fields['transfer-encoding'] === 'chunked' ? dechunk(buf, end + 4) : sized(buf, end + 4, Number(fields['content-length'] ?? 0));
    if (!body) return undefined;
    this.#buf = buf.subarray(body.next);
    return { method, target, head, fields, body: body.data };
  }
}

function sized(buf: Buffer, from: number, length: number): { data: Buffer; next: number } | undefined {
  if (buf.length - from < length) return undefined;
  return { data: Buffer.from(buf.subarray(from, from + length)), next: from + length };
}

/** Decodes a chunked body (no trailers expected) starting at `from`; undefined while incomplete. */
function dechunk(buf: Buffer, from: number): { data: Buffer; next: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol === -1) return undefined;
    const sizeLine = buf.toString('latin1', at, eol);
    if (!/^[0-9a-f]+$/.test(sizeLine)) throw new Error(`bad chunk size line ${JSON.stringify(sizeLine)}`);
    const size = Number.parseInt(sizeLine, 16);
    at = eol + 2;
    if (size === 0) {
      if (buf.length < at + 2) return undefined;
      if (buf.toString('latin1', at, at + 2) !== '\r\n') throw new Error('trailers or junk after the last chunk');
      return { data: Buffer.concat(parts), next: at + 2 };
    }
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    if (buf.toString('latin1', at + size, at + size + 2) !== '\r\n') throw new Error('chunk data longer than its size');
    at += size + 2;
  }
}

/**
 * A raw upstream that calls `answer` with each whole request it read (`socket` to write the
 * exact answer bytes on); closed with its connections after the test.
 */
export async function rawUpstream(answer: (req: RawRequest, socket: Socket, conn: RawConn) => void): Promise<RawUpstream> {
  const conns: RawConn[] = [];
  const requests: RawRequest[] = [];
  const up = await netUpstream((socket) => {
    const index = conns.length;
    const chunks: Buffer[] = [];
    const closed = deferred();
    let isClosed = false;
    socket.once('close', () => {
      isClosed = true;
      closed.resolve();
    });
    const conn: RawConn = { socket, bytes: () => Buffer.concat(chunks), requests: [], closed: closed.promise, isClosed: () => isClosed };
    conns.push(conn);
    const reader = new RequestReader();
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      reader.push(chunk);
      for (let r = reader.next(); r; r = socket.destroyed ? undefined : reader.next()) {
        const req: RawRequest = { ...r, conn: index, nth: conn.requests.length };
        conn.requests.push(req);
        requests.push(req);
        answer(req, socket, conn);
      }
    });
  });
  return { dial: up.dial, port: up.port, conns, requests, bytes: () => Buffer.concat(conns.map((c) => c.bytes())) };
}

/** A response with Content-Length, as bytes. */
export function sizedResponse(body: string | Buffer, fields = ''): Buffer {
  const b = Buffer.from(body);
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${fields}Content-Length: ${b.length}\r\n\r\n`, 'latin1'), b]);
}

/** How one response reached the client: its status, the body bytes it got, and whether it ended complete. */
export interface Outcome {
  status: number;
  headers: IncomingMessage['headers'];
  trailers: IncomingMessage['trailers'];
  body: Buffer;
  /** `end`: complete; `aborted`: cut before its end (the proxy aborted it). */
  end: 'end' | 'aborted';
}

/** One HTTP/1.1 request on a fresh connection; resolves once the response ended or was cut, never rejects for a cut. */
export async function fetchOutcome(url: string, options: H1Options = {}): Promise<Outcome> {
  const [res] = (await once(h1Request(url, options), 'response')) as [IncomingMessage];
  return outcomeOf(res);
}

/** Reads `res` to its end or its cut. */
export function outcomeOf(res: IncomingMessage): Promise<Outcome> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (end: 'end' | 'aborted') => {
      if (settled) return;
      settled = true;
      const outcome = res.complete && end === 'end' ? 'end' : 'aborted';
      resolve({ status: res.statusCode!, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks), end: outcome });
    };
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('aborted', () => settle('aborted'));
    res.on('error', () => settle('aborted'));
    res.on('end', () => settle('end'));
    res.on('close', () => settle(res.complete ? 'end' : 'aborted'));
  });
}

/** Writes `data` one byte per write, each awaited until handed to the kernel: a peer reads it in many pieces. */
export async function writeByteByByte(socket: Socket, data: Buffer): Promise<void> {
  for (let i = 0; i < data.length; i++) {
    if (socket.destroyed) throw new Error(`socket destroyed after ${i} of ${data.length} bytes`);
    await new Promise<void>((resolve, reject) => socket.write(data.subarray(i, i + 1), (err) => (err ? reject(err) : resolve())));
  }
}

/** A chunked body of `data` cut at `sizes` (cycled), each chunk line with `ext` after its size. */
export function chunked(data: Buffer, sizes: readonly number[], ext = '', trailers = ''): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    parts.push(Buffer.from(`${n.toString(16)}${ext}\r\n`, 'latin1'), data.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  parts.push(Buffer.from(`0${ext}\r\n${trailers}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}
