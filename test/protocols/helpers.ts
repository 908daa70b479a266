/**
 * Real-socket plumbing for the protocol tests, beside the kit's: servers on 127.0.0.1 with
 * ephemeral ports, real clients (node:http, node:https, node:http2, raw node:net), and a cleanup
 * list so every server, session and socket a test opened is closed when it ends, whatever happened.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { createServer } from '@ferry/core';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { serverStarter } from '@ferry/test-kit/servers';
import { collect } from '@ferry/test-kit/streams';
export { defer, deferred };

/** A started Ferry server on 127.0.0.1, logging nothing, closed after the test. */
export const startServer = serverStarter(createServer);

/** Waits for the peer's SETTINGS frame (needed before an extended CONNECT, RFC 8441 §3). */
export async function remoteSettings(session: ClientHttp2Session) {
  if (!session.remoteSettings || session.pendingSettingsAck || !('enableConnectProtocol' in session.remoteSettings)) {
    await once(session, 'remoteSettings');
  }
  return session.remoteSettings;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One h2 request; resolves with the final response and its whole body. */
export async function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string | Buffer): Promise<Answer> {
  const stream = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  return h2Answer(stream);
}

export async function h2Answer(stream: ClientHttp2Stream): Promise<Answer> {
  const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
  const body = await collect(stream);
  return { status: Number(headers[':status']), headers, body };
}

/** One HTTP/1.1 request over node:http (or node:https when `secure`), on a fresh connection unless an agent is given. */
export async function h1Request(
  options: RequestOptions & Pick<ConnectionOptions, 'ALPNProtocols'> & { secure?: boolean; body?: string | Buffer },
): Promise<Answer & { res: IncomingMessage }> {
  const { secure, body, ...rest } = options;
  const req = (secure ? httpsRequest : httpRequest)({ agent: false, ...rest });
  req.end(body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const data = await collect(res);
  return { status: res.statusCode!, headers: res.headers, body: data, res };
}

/** A raw TCP connection, connected, destroyed after the test, with everything it receives recorded. */
export async function rawSocket(port: number): Promise<RawClient> {
  const socket = netConnect({ host: '127.0.0.1', port });
  defer(() => socket.destroy());
  await once(socket, 'connect');
  return new RawClient(socket);
}

export class RawClient {
  received = Buffer.alloc(0);
  ended = false;
  closed: Promise<void>;
  #waiters = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** Resolves once what was received satisfies `test`; rejects if the peer ends first. */
  until(test: (received: Buffer) => boolean): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (test(this.received)) {
          this.#waiters.delete(check);
          resolve(this.received);
        } else if (this.ended) {
          this.#waiters.delete(check);
          reject(new Error(`connection ended; received so far: ${JSON.stringify(this.text.slice(0, 500))}`));
        }
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves with the head of the first response (up to and including the blank line) and what followed. */
  async head(): Promise<{ head: string; rest: Buffer }> {
    const buf = await this.until((b) => b.indexOf('\r\n\r\n') !== -1);
    const end = buf.indexOf('\r\n\r\n') + 4;
    return { head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end) };
  }

  /** Resolves when the peer has ended its side. */
  async end(): Promise<void> {
    if (!this.ended) await once(this.socket, 'end');
  }
}
