import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { type Http2SecureServer, type Http2Server, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HandlerInput } from '../provision.js';
import { Arrival } from '../request.js';
import type { ServerOptions } from '../server/options.js';
import { FerryServer, serveForeign } from '../server/server.js';
import { DONE, type Handler } from '../types.js';
import { Http1Writer, overTls } from '../writer.js';
import { bridgeInto } from './bridge_response.js';
import { NodeResponseWriter } from './node_response_writer.js';

/** Connect's `next`: Express's, or any Connect-style app's. */
export type NodeNext = (err?: Error) => void;

/** What toNodeHandler serves: a server's routes (and error routes, logger, …), or a chain of handlers. */
export type NodeHandlerInput = Omit<ServerOptions, 'listen' | 'protocols' | 'tls'> | Handler | readonly HandlerInput[];

/**
 * Ferry's routes as a node:http request listener (`http.createServer(listener)`, http2's
 * compatibility API) and as Connect/Express middleware (`app.use(listener)`).
 */
export interface NodeListener {
  (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, next?: NodeNext): void;
  /** Settles once the routes are provisioned; rejects with the ConfigError that stopped them. */
  readonly ready: Promise<void>;
  /** The Ferry server behind the listener: its logger, metrics and `stopping` signal. */
  readonly server: FerryServer;
  /** Serves an Upgrade or CONNECT request with the socket Node handed over ('upgrade', 'connect'). See attachUpgrades. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stops as a Ferry server does: long-lived streams are told, requests get `gracePeriod` to finish, modules clean up. */
  close(options?: { gracePeriod?: number | string }): Promise<void>;
}

const NOT_HERE = ['listen', 'protocols', 'tls'] as const;

function optionsOf(input: NodeHandlerInput): ServerOptions {
  if (typeof input === 'function' || Array.isArray(input)) return { handler: input as ServerOptions['handler'] };
  if (typeof input !== 'object' || input === null)
    throw new TypeError('toNodeHandler takes server options ({ routes }), a handler, or an array of handlers');
  for (const key of NOT_HERE) {
    if (key in input) throw new TypeError(`toNodeHandler: "${key}" does not apply — the server Ferry is mounted in listens; leave it out`);
  }
  return input as ServerOptions;
}

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
  const server = new FerryServer(optionsOf(input));
  let provisioned = false;
  const ready = server.provision().then(() => {
    provisioned = true;
  });
  // Reported by `ready`, and to each request that comes meanwhile.
  ready.catch(() => {});

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
    if (provisioned) return serve(req, res, next);
    ready.then(
      () => serve(req, res, next),
      (err: unknown) => unready(res, next, err),
    );
  }) as NodeListener;
  Object.defineProperties(listener, {
    ready: { value: ready },
    server: { value: server },
    upgrade: {
      value: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (provisioned) return takeover(req, socket, head);
        ready.then(
          () => takeover(req, socket, head),
          () => socket.destroy(),
        );
      },
    },
    close: { value: (options?: { gracePeriod?: number | string }) => server.close(options) },
  });
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
