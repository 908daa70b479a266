import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type Http2SecureServer, type Http2Server, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Arrival } from '../request.js';
import { serveForeign } from '../server/server.js';
import { DONE, type Handler } from '../types.js';
import { Http1Writer, overTls } from '../writer.js';
import { bridgeInto } from './bridge_response.js';
import { exposeMounted, type Mounted, type MountedInput, mountServer } from './mounted_server.js';
import { NodeResponseWriter } from './node_response_writer.js';

/** Connect's `next`: Express's, or any Connect-style app's. */
export type NodeNext = (err?: Error) => void;

/** What toNodeHandler serves: a server's routes (and error routes, logger, …), or a chain of handlers. */
export type NodeHandlerInput = MountedInput;

/**
 * Ferry's routes as a node:http request listener (`http.createServer(listener)`, http2's
 * compatibility API) and as Connect/Express middleware (`app.use(listener)`).
 */
export interface NodeListener extends Mounted {
  (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, next?: NodeNext): void;
  /** Serves an Upgrade or CONNECT request with the socket Node handed over ('upgrade', 'connect'). See attachUpgrades. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Options of a listening server: the one Ferry is mounted in has them instead. */
const NOT_HERE = Object.fromEntries(['listen', 'protocols', 'tls'].map((key) => [key, 'the server Ferry is mounted in listens']));

/**
 * Where a request goes when Ferry's chain ends without answering, mounted as Connect middleware:
 * to the app's next handler — writing through the wrappers of the chain (`encode` compresses
 * what Express answers). The chain waits until that answer is done.
 */
function fallthroughTo(raw: IncomingMessage, res: ServerResponse, writer: NodeResponseWriter, next: NodeNext): Handler {
  return (req, w) => {
    if (w.headersSent || w.writableEnded) return DONE;
    // A rewrite in Ferry's chain carries on into the app's routing.
    if (req.url !== raw.url) raw.url = req.url;
    if (w !== writer) {
      writer.detach();
      bridgeInto(res, w, () => writer.inside);
    }
    return new Promise<void>((resolve) => {
      writer.once('close', () => resolve());
      next();
    });
  };
}

/**
 * `toNodeHandler(routes)`: Ferry as a node:http listener, or as Connect/Express middleware. Mounted
 * as middleware, a request Ferry's chain does not answer goes to `next()` (not to the empty 200 a
 * Ferry server sends), through the chain's wrappers. WebSockets and CONNECT need the server's
 * 'upgrade'/'connect' events: `attachUpgrades(server, listener)`.
 */
export function toNodeHandler(input: NodeHandlerInput): NodeListener {
  const { server, ready, whenReady } = mountServer('toNodeHandler', input, NOT_HERE);

  const serve = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, next?: NodeNext) => {
    const secure = overTls(req.socket);
    const h2 = req instanceof Http2ServerRequest;
    const writer = new NodeResponseWriter(res);
    const fallthrough = typeof next === 'function' && !h2 ? fallthroughTo(req, res as ServerResponse, writer, next) : undefined;
    server[serveForeign](req, writer, h2 ? (secure ? 'h2' : 'h2c') : 'http/1.1', secure, Arrival.Request, fallthrough);
  };
  const unready = (res: ServerResponse | Http2ServerResponse, next: NodeNext | undefined, err: unknown) => {
    if (typeof next === 'function') return next(err instanceof Error ? err : new Error(String(err)));
    server.logger.error({ err }, 'toNodeHandler: the routes did not provision');
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Internal Server Error\n');
  };
  const takeover = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A reset or EPIPE is the client leaving: the response's 'close' and req.signal report it.
    socket.on('error', () => {});
    const res = new Http1Writer(req);
    res.attachUpgradeSocket(socket as Socket, head);
    server[serveForeign](req, res, 'http/1.1', overTls(socket), Arrival.Takeover);
  };

  const listener = ((req, res, next) => {
    const served = whenReady(() => serve(req, res, next));
    if (served instanceof Promise) served.catch((err: unknown) => unready(res, next, err));
  }) as NodeListener;
  Object.defineProperty(listener, 'upgrade', {
    value: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const taken = whenReady(() => takeover(req, socket, head));
      if (taken instanceof Promise) taken.catch(() => socket.destroy());
    },
  });
  exposeMounted(listener, server, ready);
  return listener;
}

/**
 * Gives `listener` the Upgrade and CONNECT requests of `server` (its 'upgrade' and 'connect'
 * events), so a WebSocket route or `reverse_proxy`'s upgrade works inside an existing server. Every
 * such request of that server is then Ferry's.
 */
export function attachUpgrades(server: HttpServer | HttpsServer | Http2Server | Http2SecureServer, listener: NodeListener): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => listener.upgrade(req, socket, head));
  server.on('connect', (req: IncomingMessage | Http2ServerRequest, a: unknown, head: unknown) => {
    if (a instanceof Http2ServerResponse) listener(req, a);
    else listener.upgrade(req as IncomingMessage, a as Duplex, head as Buffer);
  });
}
