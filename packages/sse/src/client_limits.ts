import { isIPv6 } from 'node:net';
import { HttpError, type FerryRequest } from '@ferry/core';

/** How many event streams one client may hold open at once. */
export interface ClientLimitOptions {
  /** Per connection: an h2 connection carries many streams (a browser's tabs of one origin share one). */
  perConnection: number;
  /** Per client address (an IPv6 client per /64, the block a single subscriber is given). */
  perAddress: number;
}

/**
 * The open subscriptions of every connection and client address, so that one client cannot hold
 * the hub's topics (issue 13, item 8: one h2 connection held all 10,000, and every new topic got
 * 503). An entry lives while its count is above zero: the maps hold open streams, nothing more.
 */
export class ClientLimits {
  readonly #byConnection = new Map<object, number>();
  readonly #byAddress = new Map<string, number>();

  /**
   * Counts one more subscription of `req`'s client, or throws a 429 HttpError when it already
   * holds `limits`. The returned function gives the place back (call it once, when the stream ends).
   */
  admit(req: FerryRequest, limits: ClientLimitOptions): () => void {
    const connection = connectionOf(req);
    const address = addressKey(req.remoteAddress);
    if ((this.#byConnection.get(connection) ?? 0) >= limits.perConnection) {
      throw new HttpError(
        429,
        `too many event streams on this connection (limit ${limits.perConnection}): close one before opening another`,
      );
    }
    if ((this.#byAddress.get(address) ?? 0) >= limits.perAddress) {
      throw new HttpError(429, `too many event streams from this address (limit ${limits.perAddress}): close one before opening another`);
    }
    add(this.#byConnection, connection, 1);
    add(this.#byAddress, address, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      add(this.#byConnection, connection, -1);
      add(this.#byAddress, address, -1);
    };
  }

  /** Connections and addresses holding a subscription now. */
  get size(): { connections: number; addresses: number } {
    return { connections: this.#byConnection.size, addresses: this.#byAddress.size };
  }
}

function add<K>(counts: Map<K, number>, key: K, n: number): void {
  const count = (counts.get(key) ?? 0) + n;
  if (count > 0) counts.set(key, count);
  else counts.delete(key);
}

/**
 * The connection a request came on. On h2 it is the session: `req.raw.socket` there is a proxy
 * made per stream, so it would count every stream as a connection of its own.
 */
function connectionOf(req: FerryRequest): object {
  const raw = req.raw;
  if ('stream' in raw) return raw.stream.session ?? raw.stream;
  // A request served without a connection (toFetch) is one of its own, not one shared by all.
  return raw.socket ?? raw;
}

/**
 * The address a client is counted under. IPv6 by its /64: a subscriber gets a whole /64 (RFC
 * 6177), so counting single addresses would let one client have 2^64 budgets. An IPv4-mapped
 * address (`::ffff:192.0.2.1`, a dual-stack listener) counts as the IPv4 address.
 */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === '' ? [] : tail.split(':');
  // Without "::" the address has all eight groups; with it, zeros fill the gap (a trailing
  // dotted IPv4 part is two groups wide).
  const width = [...front, ...back].reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = address.includes('::') ? [...front, ...Array<string>(8 - width).fill('0'), ...back] : front;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
