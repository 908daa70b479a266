import type { Duplex } from 'node:stream';
import type { ResponseWriter } from '@ferry/core';

/** Connection takeover asked for where the protocol has none (h2, h2c, or a plain request). */
export class TakeoverUnavailableError extends Error {
  readonly code = 'FERRY_TAKEOVER_UNAVAILABLE';
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
  if (!res.hijack) {
    throw new TakeoverUnavailableError(
      res.fullDuplex && !('shouldKeepAlive' in res)
        ? 'connection takeover is not available on HTTP/2: streams are full duplex already; use duplex() instead'
        : 'connection takeover needs an HTTP/1.1 request with "Connection: upgrade" and an "Upgrade" header',
    );
  }
  if (/[\r\n]/.test(protocol)) throw new TypeError('protocol must not contain CR or LF');
  res.writeInformational(101, { connection: 'Upgrade', upgrade: protocol, ...headers });
  return res.hijack();
}
