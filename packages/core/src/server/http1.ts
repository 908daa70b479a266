import { type Server as HttpServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { Arrival } from '../request.js';
import { Http1Writer } from '../writer.js';
import type { Dispatch } from './dispatch.js';
import type { ListenerTimeouts, ServerOptions } from './options.js';

/** The options of Node's HTTP/1.1 servers (http, https), from a server's options and timeouts. */
export function http1Options(o: ServerOptions, t: ListenerTimeouts) {
  return {
    ServerResponse: Http1Writer as unknown as typeof ServerResponse,
    // Node 22's default buffer for sockets, request bodies and responses, on Node 20 too: at 16 KiB
    // a request body's first 64 KiB read, arriving before a handler listens, stopped the client
    // socket's reads and started them again (two epoll_ctl calls) on every large upload.
    highWaterMark: 64 * 1024,
    maxHeaderSize: o.maxHeaderBytes,
    requestTimeout: t.read,
    // Node wants headersTimeout ≤ requestTimeout: a read_timeout shorter than the default
    // header timeout bounds the headers too.
    headersTimeout: Math.min(t.readHeader, t.read || Infinity),
    keepAliveTimeout: t.idle,
    connectionsCheckingInterval: Math.max(250, Math.min(30_000, t.readHeader / 4)),
  };
}

export type Http1Options = ReturnType<typeof http1Options>;

/**
 * Serves the HTTP/1.1 side of `server` through `dispatch`: requests, 100-continue, Upgrade and
 * CONNECT (the socket handed over), and the error head for requests Node could not parse.
 * `sharedWithH2`: an h2 server with allowHTTP1, whose events carry h2 requests too.
 */
export function attachHttp1(server: HttpServer, o: Http1Options, dispatch: Dispatch, secure: boolean, sharedWithH2 = false): void {
  // https/http2-with-allowHTTP1 servers read these from the instance, not the options.
  server.requestTimeout = o.requestTimeout;
  server.headersTimeout = o.headersTimeout;
  server.keepAliveTimeout = o.keepAliveTimeout;
  // An h2 server with allowHTTP1 checks these timeouts every 30 s by default, whatever they are:
  // a 500ms read_header_timeout would hold a stalled client for up to 30 s.
  (server as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval = o.connectionsCheckingInterval;
  if (o.maxHeaderSize !== undefined) (server as HttpServer & { maxHeaderSize?: number }).maxHeaderSize = o.maxHeaderSize;
  // On an h2 server with allowHTTP1 this listener sits beside attachHttp2's on the same emitter:
  // h2 requests are attachHttp2's, or each would be handled twice (once mislabelled http/1.1).
  if (sharedWithH2) {
    server.on('request', (req: IncomingMessage | Http2ServerRequest, res: Http1Writer) => {
      if (!(req instanceof Http2ServerRequest)) dispatch(req, res, 'http/1.1', secure, Arrival.Request);
    });
  } else {
    server.on('request', (req: IncomingMessage, res: Http1Writer) => dispatch(req, res, 'http/1.1', secure, Arrival.Request));
  }
  // With these listeners Node stops parsing at an Upgrade/CONNECT and hands us the socket and the
  // bytes it read past the headers (`head`): the only lossless way to take a connection over.
  const takeover = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    // A reset or EPIPE is the client leaving: the response's 'close' and req.signal report it.
    socket.on('error', () => {});
    const res = new Http1Writer(req);
    res.attachUpgradeSocket(socket, head);
    dispatch(req, res, 'http/1.1', secure, Arrival.Takeover);
  };
  server.on('upgrade', takeover);
  // Without this listener Node answers 100 Continue itself, before any handler has looked.
  server.on('checkContinue', (req: IncomingMessage | Http2ServerRequest, res: Http1Writer) => {
    if (req instanceof Http2ServerRequest) return; // h2, handled by attachHttp2
    dispatch(req, res, 'http/1.1', secure, Arrival.Continue);
  });
  server.on('connect', (req: IncomingMessage, a: unknown, head: unknown) => {
    if (a instanceof Http2ServerResponse) return; // h2 CONNECT, handled by attachHttp2
    takeover(req, a as Socket, head as Buffer);
  });
  server.on('clientError', answerClientError);
}

/** A request Node could not parse (or that timed out): its error head, then the connection closes. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // As Node's own socketOnError: no error head once a response has started on this socket
  // (e.g. a bad chunk arrives while the handler streams its answer) — it would be spliced
  // into that response's body. Just cut the connection then.
  const inFlight = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
  if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET' && !inFlight?._headerSent) {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}
