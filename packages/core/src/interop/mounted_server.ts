import type { HandlerInput } from '../provision.js';
import type { ServerOptions } from '../server/options.js';
import { FerryServer } from '../server/server.js';
import type { Handler } from '../types.js';

/** What a Ferry mounted in another host serves: a server's routes (and error routes, logger, …), or a chain of handlers. */
export type MountedInput = Omit<ServerOptions, 'listen' | 'protocols' | 'tls'> | Handler | readonly HandlerInput[];

/** What toNodeHandler's listener and toFetch's handler have in common: the Ferry server behind them. */
export interface Mounted {
  /** Settles once the routes are provisioned; rejects with the ConfigError that stopped them. */
  readonly ready: Promise<void>;
  /** The Ferry server behind the handler: its logger, metrics and `stopping` signal. */
  readonly server: FerryServer;
  /** Stops as a Ferry server does: long-lived streams are told, requests get `gracePeriod` to finish, modules clean up. */
  close(options?: { gracePeriod?: number | string }): Promise<void>;
}

/** The server options of `input`; `notHere` names the options the host has instead of Ferry, and why. */
function optionsOf(who: string, input: MountedInput, notHere: Readonly<Record<string, string>>): ServerOptions {
  if (typeof input === 'function' || Array.isArray(input)) return { handler: input as ServerOptions['handler'] };
  if (typeof input !== 'object' || input === null)
    throw new TypeError(`${who} takes server options ({ routes }), a handler, or an array of handlers`);
  for (const [key, why] of Object.entries(notHere)) {
    if (key in input) throw new TypeError(`${who}: "${key}" does not apply — ${why}; leave it out`);
  }
  return input as ServerOptions;
}

/**
 * A Ferry server that another host hands requests to (toNodeHandler, toFetch): provisioned at
 * once, in the background. `whenReady(fn)` runs `fn` now once provisioned, else after — or rejects
 * with the error that stopped provisioning.
 */
export function mountServer(who: string, input: MountedInput, notHere: Readonly<Record<string, string>>) {
  const server = new FerryServer(optionsOf(who, input, notHere));
  let provisioned = false;
  const ready = server.provision().then(() => {
    provisioned = true;
  });
  // Reported by `ready`, and to each request that comes meanwhile.
  ready.catch(() => {});
  const whenReady = <T>(fn: () => T): T | Promise<T> => (provisioned ? fn() : ready.then(fn));
  return { server, ready, whenReady };
}

/** Gives `target` (the host-facing function) the `Mounted` members. */
export function exposeMounted<T extends object>(target: T, server: FerryServer, ready: Promise<void>): T & Mounted {
  Object.defineProperties(target, {
    ready: { value: ready },
    server: { value: server },
    close: { value: (options?: { gracePeriod?: number | string }) => server.close(options) },
  });
  return target as T & Mounted;
}
