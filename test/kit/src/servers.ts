/**
 * Servers under test, started on 127.0.0.1 with an ephemeral port and no logger, and closed after
 * the test whatever happened. The kit does not depend on `@ferry/core` (core's own tests use the
 * kit): a package's tests bind their `createServer` once, `const startServer = serverStarter(createServer)`.
 */
import { defer } from './lifecycle.js';

/** What the kit needs of a server: Ferry's `FerryServer` is one. */
export interface TestServer {
  listen(): Promise<unknown>;
  close(options: { gracePeriod: number }): Promise<unknown>;
}

/** The options every test server starts with, before the test's own. */
const TEST_SERVER_DEFAULTS = { listen: '127.0.0.1:0', logger: false } as const;

/** A function that creates, starts and (after the test, with no grace period) closes a server. */
export function serverStarter<O extends object, S extends TestServer>(createServer: (options?: O) => S): (options: O) => Promise<S> {
  return async (options) => {
    const server = createServer({ ...TEST_SERVER_DEFAULTS, ...options });
    await server.listen();
    defer(() => server.close({ gracePeriod: 0 }));
    return server;
  };
}

/** The port of a server's first listener. */
export function portOf(server: { readonly addresses: readonly { readonly port: number }[] }): number {
  return server.addresses[0]!.port;
}
