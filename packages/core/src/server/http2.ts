import type { IncomingMessage } from 'node:http';
import {
  type Http2SecureServer,
  type Http2Server,
  Http2ServerRequest,
  Http2ServerResponse,
  type ServerHttp2Session,
  type Settings,
} from 'node:http2';
import { Arrival } from '../request.js';
import type { Protocol } from '../types.js';
import type { Http1Writer, Http2Writer } from '../writer.js';
import type { Connections } from './connections.js';
import type { Dispatch } from './dispatch.js';
import { DEFAULT_MAX_CONCURRENT_STREAMS, type ServerOptions } from './options.js';

/** The SETTINGS an h2 or h2c server sends (RFC 9113 §6.5.2); CONNECT-protocol for WebSockets over h2 (RFC 8441 §3). */
export function http2Settings(o: ServerOptions): Settings {
  return {
    enableConnectProtocol: true,
    maxConcurrentStreams: o.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
    ...(o.maxHeaderBytes ? { maxHeaderListSize: o.maxHeaderBytes } : {}),
  };
}

/**
 * Serves the h2 (or h2c) side of `server` through `dispatch`: requests, 100-continue and CONNECT
 * streams; its sessions are tracked in `connections`, and closed after `idle` ms without a stream.
 */
export function attachHttp2(
  server: Http2Server | Http2SecureServer,
  dispatch: Dispatch,
  protocol: Protocol,
  secure: boolean,
  connections: Connections,
  idle: number,
): void {
  server.on('request', (req: Http2ServerRequest | IncomingMessage, res: Http2Writer | Http1Writer) => {
    if (req instanceof Http2ServerRequest) dispatch(req, res, protocol, secure, Arrival.Request);
  });
  server.on('checkContinue', (req: Http2ServerRequest | IncomingMessage, res: Http2Writer | Http1Writer) => {
    if (req instanceof Http2ServerRequest) dispatch(req, res, protocol, secure, Arrival.Continue);
  });
  // The compat layer answers CONNECT with 405 unless someone listens for 'connect' (nodejs/node#36977).
  server.on('connect', (req: Http2ServerRequest | IncomingMessage, res: unknown) => {
    if (res instanceof Http2ServerResponse) dispatch(req as Http2ServerRequest, res as Http2Writer, protocol, secure, Arrival.Request);
  });
  server.on('session', (session: ServerHttp2Session) => {
    // A session error ends its streams, each of which reports it to its own handler (req.signal).
    session.on('error', () => {});
    connections.addSession(session);
  });
  server.setTimeout(idle);
  // An idle timeout never kills a live stream that is merely quiet: only sessions without streams close.
  server.on('timeout', (session: ServerHttp2Session) => {
    const state = session.state as { streamsOpen?: number; localWindowSize?: number };
    if (!state || !(state as { streamsOpen?: number }).streamsOpen) session.close();
  });
  // Emitted beside the session's own 'error' (handled above); without a listener Node would throw.
  server.on('sessionError', () => {});
}
