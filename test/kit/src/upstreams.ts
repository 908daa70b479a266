/**
 * Upstreams for proxy tests, real servers on 127.0.0.1 closed (their connections too) after the
 * test: a node:http server, one that writes its body in gated steps, and a `ws` echo server.
 */
import {
  type IncomingMessage,
  type OutgoingHttpHeaders,
  createServer as createHttpServer,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { defer, deferred } from './lifecycle.js';

export interface Upstream {
  server: Server;
  port: number;
  /** `127.0.0.1:PORT`, for `dial`. */
  dial: string;
  /** Every request it saw, in order. */
  seen: IncomingMessage[];
}

/** A node:http upstream; without a handler it answers 200 with its own name (also in `X-Upstream`). */
export async function httpUpstream(name: string, handler?: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const seen: IncomingMessage[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req);
    if (handler) return handler(req, res);
    req.resume();
    res.setHeader('x-upstream', name);
    res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  return { server, port, dial: `127.0.0.1:${port}`, seen };
}

/**
 * An upstream that answers with `headers` and writes `n` chunks, each only after the test calls
 * `received[i]()` for the one before (a server-side gate): a proxy that held any write back would
 * deadlock the test.
 */
export async function gatedUpstream(headers: OutgoingHttpHeaders, n: number, chunk: (i: number) => string) {
  const gates = Array.from({ length: n }, () => deferred());
  const up = await httpUpstream('gated', async (req, res) => {
    req.resume();
    res.writeHead(200, headers);
    for (let i = 0; i < n; i++) {
      res.write(chunk(i));
      await gates[i]!.promise;
    }
    res.end();
  });
  const received = gates.map((g) => () => g.resolve());
  return { up, received };
}

export interface WsUpstream {
  dial: string;
  port: number;
  wss: WebSocketServer;
  /** The handshake requests it accepted, in order. */
  handshakes: IncomingMessage[];
  /** Resolves with each server-side socket as it opens. */
  connected: Promise<WebSocket>;
  /** Close codes its sockets received from the proxy side. */
  closeCodes: number[];
}

/** A `ws` echo server (HTTP/1.1 upgrade): every message comes back as it was sent. */
export async function wsEchoUpstream(): Promise<WsUpstream> {
  const server = createHttpServer();
  const wss = new WebSocketServer({ server });
  const handshakes: IncomingMessage[] = [];
  const closeCodes: number[] = [];
  const first = deferred<WebSocket>();
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    first.resolve(ws);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', (code) => closeCodes.push(code));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const port = (server.address() as AddressInfo).port;
  return { dial: `127.0.0.1:${port}`, port, wss, handshakes, connected: first.promise, closeCodes };
}
