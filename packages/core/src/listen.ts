import { isIP } from 'node:net';

/** A parsed listener address: `":8080"`, `"127.0.0.1:8443"`, `"[::1]:0"`, `"localhost:8080"`. */
export interface ListenAddress {
  /** Undefined means every interface. */
  host: string | undefined;
  port: number;
  /** The address as written. */
  text: string;
}

export function parseListen(text: string): ListenAddress {
  const s = text.trim();
  const colon = s.lastIndexOf(':');
  if (colon === -1) throw new Error(`listener "${text}" needs a port, like ":8080" or "127.0.0.1:8080"`);
  let host = s.slice(0, colon);
  const portText = s.slice(colon + 1);
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`listener "${text}": port "${portText}" is not a number from 0 to 65535 (port ranges are not supported)`);
  }
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw new Error(`listener "${text}": "${host}" is not an IPv6 address`);
  } else if (host.includes(':') || host.includes('/')) {
    throw new Error(`listener "${text}": network addresses with a scheme or unix sockets are not supported; use "host:port"`);
  }
  return { host: host === '' ? undefined : host, port: Number(portText), text: s };
}
