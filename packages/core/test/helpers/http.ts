import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { serverStarter } from '@ferry/test-kit/servers';
import { createServer, type FerryServer, type ServerOptions } from '../../src/index.js';

/**
 * Starts Ferry servers on 127.0.0.1 with ephemeral ports and no logger (the kit's serverStarter,
 * bound to this package's createServer); every server started in a test is closed after it.
 */
export function useServers(): (options: ServerOptions) => Promise<FerryServer> {
  return serverStarter(createServer);
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The client's own port, as the server saw it as the remote port. */
  localPort: number;
}

export interface SendOptions {
  method?: string;
  /** Sent as given: a `host` entry replaces the Host header. */
  headers?: Record<string, string | string[]>;
  body?: string;
  /** Default: a fresh connection per request (`agent: false`). */
  agent?: Agent | false;
  /** Connect to this address instead of the URL's host (to reach a dual-stack listener over IPv4 or IPv6). */
  connectHost?: string;
}

/**
 * One request with `node:http`: the path goes on the wire exactly as written (no URL
 * normalisation, unlike fetch), so `/a/../b` and `//b` reach the server as such.
 */
export function send(base: string, path = '/', options: SendOptions = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    let localPort = 0;
    const req = request(
      {
        host: options.connectHost ?? url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), localPort }),
        );
      },
    );
    req.on('socket', (s) => s.once('connect', () => (localPort = s.localPort ?? 0)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The body of a GET (or `options.method`) to `path`. */
export async function bodyOf(base: string, path = '/', options: SendOptions = {}): Promise<string> {
  return (await send(base, path, options)).body;
}

/**
 * How a response ended: `'complete'` when the body ended cleanly, `'reset'` when the request
 * or the response failed (socket hang up, reset, aborted mid-body).
 */
export function outcomeOf(base: string, path = '/'): Promise<{ outcome: 'complete' | 'reset'; status?: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let status: number | undefined;
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (outcome: 'complete' | 'reset') => {
      if (settled) return;
      settled = true;
      resolve({ outcome, status, body: Buffer.concat(chunks).toString('utf8') });
    };
    const req = request({ host: url.hostname, port: url.port, path, agent: false }, (res) => {
      status = res.statusCode;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => done('reset'));
      res.on('error', () => done('reset'));
      res.on('end', () => done(res.complete ? 'complete' : 'reset'));
    });
    req.on('error', () => done('reset'));
    req.end();
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port (false on ECONNREFUSED). */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve(false) : reject(err)));
  });
}
