import { ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { ResponseWriter } from '@ferry/core';

/** Connection takeover asked for where the protocol has none (h2, h2c, or a plain request). */
export class TakeoverUnavailableError extends Error {
  /** `FERRY_ERR_TAKEOVER_UNAVAILABLE` (docs/errors.md); `FERRY_TAKEOVER_UNAVAILABLE` before 0.2. */
  readonly code = 'FERRY_ERR_TAKEOVER_UNAVAILABLE';
  constructor(why: string) {
    super(why);
    this.name = 'TakeoverUnavailableError';
  }
}

/** True when `switchProtocols` can work on this response: an HTTP/1.1 Upgrade (or CONNECT) request. */
export function canSwitchProtocols(res: ResponseWriter): boolean {
  return typeof res.hijack === 'function';
}

/**
 * Sends `101 Switching Protocols` and hands over the raw connection (HTTP/1.1 only). The returned
 * stream starts with every byte the client already sent after its request (field lesson 2): a
 * client that speaks first loses nothing.
 */
export function switchProtocols(res: ResponseWriter, protocol: string, headers: Record<string, string> = {}): Duplex {
  if (!res.hijack) throw new TakeoverUnavailableError(whyUnavailable(res));
  if (/[\r\n]/.test(protocol)) throw new TypeError('protocol must not contain CR or LF');
  res.writeInformational(101, { connection: 'Upgrade', upgrade: protocol, ...headers });
  const conn = res.hijack();
  // Node's HTTP server gives every socket an own `setEncoding` that throws ERR_HTTP_SOCKET_ENCODING
  // (meant for HTTP framing) and never takes it back after an upgrade; the stream is the new
  // protocol's now, so the ordinary Readable method comes back.
  if (Object.hasOwn(conn, 'setEncoding')) delete (conn as { setEncoding?: unknown }).setEncoding;
  return conn;
}

/** The writer under every wrapper (`unwrap()`, Caddy's ResponseWriterWrapper), where the protocol shows. */
function innermost(res: ResponseWriter): ResponseWriter {
  let r = res as ResponseWriter & { unwrap?: () => ResponseWriter };
  while (typeof r.unwrap === 'function') r = r.unwrap();
  return r;
}

/**
 * Why there is nothing to take over. Decided on the innermost writer, not on `fullDuplex`: an
 * HTTP/1.1 response with full duplex on, seen through a wrapper, is not HTTP/2.
 */
function whyUnavailable(res: ResponseWriter): string {
  const inner = innermost(res);
  if (inner instanceof Http2ServerResponse) {
    return 'connection takeover is not available on HTTP/2: streams are full duplex already; use duplex() instead';
  }
  const needs = 'connection takeover needs an HTTP/1.1 request with "Connection: upgrade" and an "Upgrade" header';
  if (inner instanceof ServerResponse) return needs;
  return 'connection takeover needs the connection of an HTTP/1.1 Upgrade or CONNECT request, and this response has none (HTTP/2 has none: use duplex() there; a Response made by toFetch has none: fetch cannot switch protocols)';
}
