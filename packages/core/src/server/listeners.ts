import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  createSecureServer as createH2SecureServer,
  createServer as createH2Server,
  type Http2SecureServer,
  type Http2Server,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { ListenAddress } from '../listen.js';
import type { Logger } from '../log.js';
import { ReplaySocket } from '../replay.js';
import { Http1Writer, Http2Writer } from '../writer.js';
import type { Connections } from './connections.js';
import type { Dispatch } from './dispatch.js';
import { attachHttp1, http1Options } from './http1.js';
import { attachHttp2, http2Settings } from './http2.js';
import { type HttpProtocolName, type ListenerTimeouts, listenerTimeouts, type ServerOptions } from './options.js';
import { sniSelector } from './sni.js';

/** What binding a listener needs from its server. */
export interface ListenerContext {
  readonly name: string;
  readonly options: ServerOptions;
  readonly protocols: ReadonlySet<HttpProtocolName>;
  readonly dispatch: Dispatch;
  readonly connections: Connections;
  readonly logger: Logger;
}

/** The Node servers behind one address: `server` listens, `h1` and `h2` speak the protocols. */
interface Servers {
  server: NetServer | HttpServer | Http2Server | Http2SecureServer;
  h1?: HttpServer | undefined;
  h2?: Http2Server | Http2SecureServer | undefined;
}

/** One bound address, and what a stop does to it. */
export class Listener {
  constructor(
    readonly servers: Servers,
    readonly address: AddressInfo,
  ) {}

  /** Takes no new connection; resolves once the listening server has closed. */
  stopAccepting(): Promise<void> {
    const { server } = this.servers;
    return new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  }

  /** Closes the HTTP/1.1 connections that wait between requests. */
  closeIdle(): void {
    const { server, h1 } = this.servers;
    h1?.closeIdleConnections();
    if (server !== h1 && 'closeIdleConnections' in server) (server as HttpServer).closeIdleConnections();
  }

  /** Closes every HTTP/1.1 connection, busy or not. */
  closeAll(): void {
    const { server, h1 } = this.servers;
    // A shared port's h1 server is not listening; close() only stops its connection checker.
    if (h1 && h1 !== server) h1.close();
    h1?.closeAllConnections();
    if (server !== h1 && 'closeAllConnections' in server) (server as HttpServer).closeAllConnections();
  }
}

/** Binds one address: the servers its protocols need, every connection tracked, then listening. */
export async function bindListener(addr: ListenAddress, ctx: ListenerContext): Promise<Listener> {
  const t = listenerTimeouts(ctx.options);
  const servers = ctx.options.tls ? tlsServers(ctx, t) : cleartextServers(ctx, t);
  const { server, h1 } = servers;
  server.on('error', (err) => ctx.logger.error({ err, listen: addr.text }, 'listener error'));
  server.on('connection', (socket: Socket) => {
    // Every accepted socket, whatever the path (Node sets it for plain HTTP only, not under TLS):
    // with Nagle's algorithm a small write waits for the peer's delayed ACK, ~40 ms per exchange.
    socket.setNoDelay(true);
    ctx.connections.addSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${addr.text}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen({ host: addr.host, port: addr.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // The h1 server of a shared cleartext port never listens itself, and Node starts its connection
  // tracking (headersTimeout, requestTimeout, closeIdleConnections) on 'listening': start it now.
  if (h1 && h1 !== server) h1.emit('listening');
  const address = server.address() as AddressInfo;
  ctx.logger.info(
    { server: ctx.name, listen: addr.text, port: address.port, tls: Boolean(ctx.options.tls), protocols: [...ctx.protocols] },
    'listening',
  );
  return new Listener(servers, address);
}

/** HTTPS: h2 and HTTP/1.1 told apart by ALPN on one server, or HTTP/1.1 alone; certificates by SNI. */
function tlsServers(ctx: ListenerContext, t: ListenerTimeouts): Servers {
  const { options: o, protocols, dispatch } = ctx;
  const certificates = o.tls?.certificates ?? [];
  if (certificates.length === 0) throw new Error('TLS is on but no certificate is loaded');
  const { defaults, SNICallback } = sniSelector(certificates);
  const tlsOpts = {
    cert: defaults.cert,
    key: defaults.key,
    ...(SNICallback ? { SNICallback } : {}),
    // As Go's tlsHandshakeTimeout: a client that never finishes its handshake is bounded by
    // read_header_timeout too, not by Node's default of 120 s.
    ...(t.handshake !== undefined ? { handshakeTimeout: t.handshake } : {}),
  };
  const h1Opts = http1Options(o, t);
  if (protocols.has('h2')) {
    const s = createH2SecureServer({
      ...tlsOpts,
      allowHTTP1: protocols.has('h1'),
      settings: http2Settings(o),
      Http1ServerResponse: Http1Writer as unknown as typeof import('node:http').ServerResponse,
      Http2ServerResponse: Http2Writer as unknown as typeof Http2ServerResponse,
    });
    attachHttp2(s, dispatch, 'h2', true, ctx.connections, t.idle);
    if (protocols.has('h1')) attachHttp1(s as unknown as HttpServer, h1Opts, dispatch, true, true);
    return { server: s, h2: s };
  }
  const s = createHttpsServer({ ...tlsOpts, ...h1Opts });
  attachHttp1(s, h1Opts, dispatch, true);
  return { server: s, h1: s };
}

/** Plain HTTP: HTTP/1.1, h2c by prior knowledge, or both on one port. */
function cleartextServers(ctx: ListenerContext, t: ListenerTimeouts): Servers {
  const { options: o, protocols, dispatch } = ctx;
  const h1Opts = http1Options(o, t);
  if (!protocols.has('h2c')) {
    const s = createHttpServer(h1Opts);
    attachHttp1(s, h1Opts, dispatch, false);
    return { server: s, h1: s };
  }
  const h2 = createH2Server({ settings: http2Settings(o), Http2ServerResponse: Http2Writer as unknown as typeof Http2ServerResponse });
  attachHttp2(h2, dispatch, 'h2c', false, ctx.connections, t.idle);
  if (!protocols.has('h1')) return { server: h2, h2 };
  const h1 = createHttpServer(h1Opts);
  attachHttp1(h1, h1Opts, dispatch, false);
  // Until its first bytes a connection belongs to neither server, so neither's timeouts
  // apply: a client that connects and stays silent gets read_header_timeout here.
  return { server: sharedPort(h1, h2, t.readHeader), h1, h2 };
}

/** What every h2 connection starts with (RFC 9113 §3.4): `PRI * HTTP/2.0`. */
const H2_PREFACE_START = 'PRI ';

/**
 * One cleartext port, two protocols: the h2 connection preface (RFC 9113 §3.4) tells them apart.
 * A connection that sends nothing within `sniffTimeout` ms is closed.
 */
function sharedPort(h1: HttpServer, h2: Http2Server, sniffTimeout: number): NetServer {
  return createNetServer({ noDelay: true }, (socket) => {
    // Before the first bytes nothing depends on this socket: an error just closes it.
    socket.on('error', () => {});
    const silent = () => socket.destroy();
    socket.setTimeout(sniffTimeout, silent);
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.off('timeout', silent);
      socket.pause();
      if (chunk.toString('latin1', 0, 4) === H2_PREFACE_START) {
        h2.emit('connection', new ReplaySocket(socket, chunk));
      } else {
        socket.unshift(chunk);
        h1.emit('connection', socket);
        socket.resume();
      }
    });
  });
}
