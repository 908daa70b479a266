/**
 * Real clients for a test, each torn down after it: one HTTP/1.1 request on a fresh connection
 * (node:http, or node:https for an https:// URL), and node:http2 sessions (h2 for https://, h2c
 * for http://). A client that trusts the test certificate passes `ca: certificates().ca`.
 */
import { once } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import {
  connect as h2connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders as H2IncomingHeaders,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { defer } from './lifecycle.js';
import { collect } from './streams.js';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as it came off the wire. */
  body: Buffer;
}

export type H1Options = RequestOptions & { body?: string | Buffer };

/** Starts one HTTP/1.1 request, `body` sent; listen on it for 'information' and 'response'. Options override the URL's parts. */
export function h1Request(url: string, options: H1Options = {}): ClientRequest {
  const { body, ...rest } = options;
  const all = { agent: false as const, ...rest };
  const req = url.startsWith('https:') ? httpsRequest(url, all) : httpRequest(url, all);
  defer(() => {
    req.on('error', () => {}); // the teardown's own "socket hang up"
    req.destroy();
  });
  req.end(body);
  return req;
}

/** One HTTP/1.1 request; resolves as soon as the response head arrives, its body still to read. */
export async function h1Response(url: string, options: H1Options = {}): Promise<IncomingMessage> {
  const [res] = (await once(h1Request(url, options), 'response')) as [IncomingMessage];
  return res;
}

/** One HTTP/1.1 request; resolves with the whole body. */
export async function h1Get(url: string, options: H1Options = {}): Promise<Reply> {
  const res = await h1Response(url, options);
  const body = await collect(res);
  return { status: res.statusCode!, headers: res.headers, body };
}

/** An h2 or h2c session, by the URL's scheme, still connecting (for code that must not wait). */
export function h2Connect(url: string, options: SecureClientSessionOptions = {}): ClientHttp2Session {
  const session = h2connect(url, options);
  session.on('error', () => {});
  defer(() => session.destroy());
  return session;
}

/** An h2 or h2c session, by the URL's scheme, connected. */
export async function h2Session(url: string, options: SecureClientSessionOptions = {}): Promise<ClientHttp2Session> {
  const session = h2Connect(url, options);
  await once(session, 'connect');
  return session;
}

/** One h2 request (a GET unless `headers` say otherwise); resolves at the response head, its body still to read. */
export async function h2Response(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders = {},
): Promise<{ stream: ClientHttp2Stream; headers: H2IncomingHeaders }> {
  const stream = session.request({ ':path': path, ...headers });
  stream.on('error', () => {});
  const [head] = (await once(stream, 'response')) as [H2IncomingHeaders];
  return { stream, headers: head };
}

/** One h2 request; resolves with the whole body. */
export async function h2Get(session: ClientHttp2Session, path: string, headers: OutgoingHttpHeaders = {}): Promise<Reply> {
  const { stream, headers: head } = await h2Response(session, path, headers);
  const body = await collect(stream);
  return { status: Number(head[':status']), headers: head, body };
}

/**
 * Waits for the server's SETTINGS to say SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3): only
 * then may a client send an extended CONNECT.
 */
export async function connectProtocolAllowed(session: ClientHttp2Session): Promise<boolean> {
  if (session.remoteSettings.enableConnectProtocol !== true) await once(session, 'remoteSettings');
  return session.remoteSettings.enableConnectProtocol === true;
}
