import { randomBytes } from 'node:crypto';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Http2ServerRequest, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { pipeline, type Writable } from 'node:stream';
import { HttpError, type FerryRequest, type Logger, type ResponseWriter } from '@ferry/core';
import { classify, RoundTripError } from './errors.js';
import { endToEnd, received, type HeaderRecord } from './hop.js';
import { splice, type Ends } from './splice.js';
import type { Upstream } from './upstream.js';

export interface StreamSettings {
  dialTimeout: number;
  streamTimeout: number;
  streamCloseDelay: number;
  stopping: AbortSignal;
  logger: Logger;
  /** Response header ops, applied to the upstream's handshake answer. */
  responseHeaders: (headers: HeaderRecord) => HeaderRecord;
}

/**
 * Whether an HTTP/1.1 Upgrade request says it has a body. Node stops parsing at the head of an
 * Upgrade request (its 'upgrade' event), so such a body is not framed: it lies raw in the
 * connection's read-ahead, where the proxy would forward its Content-Length without it (the
 * upstream waits for ever) or splice it into the new protocol after a 101. Read from the header
 * lines as received, so no handler's edit hides it.
 */
export function upgradeCarriesBody(req: FerryRequest): boolean {
  const raw = req.raw.rawHeaders;
  return received(raw, 'transfer-encoding').length > 0 || received(raw, 'content-length').some((v) => Number(v.trim()) !== 0);
}

/** The handshake's fields toward the (HTTP/1.1) upstream. */
function handshakeHeaders(req: FerryRequest, out: HeaderRecord, overH2: boolean): HeaderRecord {
  const headers: HeaderRecord = { ...out };
  if (overH2) {
    // RFC 8441 §5: the h2 side has no key/accept handshake; the h1 upstream needs one.
    headers.connection = 'Upgrade';
    headers.upgrade = req.extendedConnectProtocol!;
    headers['sec-websocket-key'] = randomBytes(16).toString('base64');
    headers['sec-websocket-version'] ??= '13';
  } else {
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade!;
  }
  return headers;
}

/**
 * Proxies an HTTP/1.1 Upgrade, or an RFC 8441 WebSocket over h2 (translated to an HTTP/1.1
 * upgrade toward the upstream). Every byte read ahead on either side is forwarded first and
 * in order (field lesson 4, caddy#6273): the client's early bytes stay in its socket (core
 * unshifts them at hijack), the upstream's come as `head` and are written before the splice.
 */
export function proxyUpgrade(up: Upstream, req: FerryRequest, res: ResponseWriter, out: HeaderRecord, s: StreamSettings): Promise<void> {
  const overH2 = req.extendedConnectProtocol !== undefined;
  const websocket = (overH2 ? req.extendedConnectProtocol : req.upgrade)?.toLowerCase() === 'websocket';

  return new Promise((resolve, reject) => {
    const upReq = httpRequest({
      host: up.host,
      port: up.port,
      method: overH2 ? 'GET' : req.method,
      path: req.url || '/',
      headers: handshakeHeaders(req, out, overH2) as Record<string, string | string[]>,
      agent: false,
      setHost: false,
    });
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(req.signal.aborted ? new RoundTripError('client-gone', 'client went away', { cause: err }) : classify(err));
    };
    // Error handlers first, before anything can fail (STYLE: every socket gets one before the first await).
    upReq.on('error', fail);
    const dialTimer =
      s.dialTimeout > 0
        ? setTimeout(() => upReq.destroy(Object.assign(new Error('dial timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), s.dialTimeout)
        : undefined;
    upReq.once('socket', (sock: Socket) => sock.once('connect', () => clearTimeout(dialTimer)));
    const onClientGone = () => upReq.destroy();
    req.signal.addEventListener('abort', onClientGone, { once: true });
    const answered = () => {
      clearTimeout(dialTimer);
      settled = true;
      req.signal.removeEventListener('abort', onClientGone);
    };

    upReq.once('response', (upRes: IncomingMessage) => {
      answered();
      relayAnswer(upReq, upRes, res, overH2, s, resolve, reject);
    });

    upReq.once('upgrade', (upRes: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
      answered();
      // Errors of either side reach the splice's relays, which tear both sides down.
      upSocket.on('error', () => {});
      upSocket.setTimeout(0);
      upSocket.setNoDelay(true);
      const ends: Ends = { ...switchClient(req, res, upRes, overH2, s), overH2, upSocket, headBytes: upHead.length, websocket };
      if (upHead.length > 0) ends.toClient.write(upHead);
      splice(ends, up, s).then(resolve);
    });

    if (overH2) upReq.end();
    else req.body.pipe(upReq);
  });
}

/** No switch: an ordinary response, forwarded as such. */
function relayAnswer(
  upReq: ClientRequest,
  upRes: IncomingMessage,
  res: ResponseWriter,
  overH2: boolean,
  s: StreamSettings,
  resolve: () => void,
  reject: (err: unknown) => void,
): void {
  const status = upRes.statusCode ?? 502;
  if (overH2 && status >= 200 && status < 300) {
    // A 2xx to an extended CONNECT says the tunnel is open (RFC 8441 §5, RFC 9110 §9.3.6), but
    // the upstream never switched: there is no tunnel, and its answer cannot be relayed as
    // one. That is an invalid answer to the gateway: 502. Not a health strike — any client
    // can aim a CONNECT at a path that is no WebSocket endpoint.
    upReq.destroy();
    reject(new HttpError(502, `upstream answered ${status} to a WebSocket upgrade, not 101 Switching Protocols`));
    return;
  }
  res.writeHead(status, s.responseHeaders(endToEnd(upRes.headers)));
  pipeline(upRes, res as unknown as Writable, () => resolve());
}

/** Tells the client the protocol switched (a 101 on HTTP/1.1, a 200 to an h2 CONNECT) and returns its two directions. */
function switchClient(
  req: FerryRequest,
  res: ResponseWriter,
  upRes: IncomingMessage,
  overH2: boolean,
  s: StreamSettings,
): Pick<Ends, 'fromClient' | 'toClient'> {
  let ends: Pick<Ends, 'fromClient' | 'toClient'>;
  if (overH2) {
    const answer = s.responseHeaders(endToEnd(upRes.headers));
    delete answer['sec-websocket-accept'];
    // RFC 9110 §9.3.6: a 2xx to CONNECT has no Content-Length; what follows is the tunnel.
    delete answer['content-length'];
    res.writeHead(200, answer);
    res.flush(); // the h2 client waits for this 200 before it speaks (field lesson 3)
    ends = { toClient: (req.raw as Http2ServerRequest).stream as ServerHttp2Stream, fromClient: req.body };
  } else {
    res.writeInformational(101, s.responseHeaders(endToEnd(upRes.headers, ['upgrade', 'connection'])) as Record<string, string>);
    const socket = res.hijack!() as Socket;
    socket.setNoDelay?.(true);
    ends = { toClient: socket, fromClient: socket };
  }
  // As for upSocket: the splice's relays see these errors and close both sides.
  ends.toClient.on('error', () => {});
  ends.fromClient.on('error', () => {});
  return ends;
}
