/**
 * The README-example harness. A README's code example is a file beside its test, shown in the
 * README verbatim: the test imports and runs that file, so the example users copy is code that
 * passes. The example listens on `process.env.LISTEN` (Ferry's servers) or `process.env.PORT`
 * (Express, Fastify) — an ephemeral port here — and exports the `server` it started; the harness
 * starts it before the file's tests and closes it after them.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** What an example may export as its `server`: a Ferry server, a node:http server (Express's `app.listen`), or a Fastify app. */
export type ExampleServer =
  | { url: string; close(options: { gracePeriod: number }): Promise<unknown> }
  | { listening: boolean; address(): AddressInfo | string | null; close(): unknown; closeAllConnections?(): void }
  | { server: { address(): AddressInfo | string | null }; close(): Promise<unknown> };

export interface ReadmeExample<S> {
  /** The example file's text: what the README must show. */
  readonly source: string;
  /** The README's text. */
  readonly readme: string;
  /** The server the example started (from the first test on). */
  readonly server: S;
  /** `http://127.0.0.1:PORT` of that server. */
  readonly url: string;
}

function urlOf(server: ExampleServer): string {
  if ('url' in server && typeof server.url === 'string') return server.url;
  const address = 'server' in server ? server.server.address() : (server as { address(): AddressInfo | string | null }).address();
  if (address === null || typeof address === 'string') throw new Error('the README example is not listening on a TCP port');
  return `http://127.0.0.1:${address.port}`;
}

async function stop(server: ExampleServer): Promise<void> {
  if ('url' in server && typeof server.url === 'string') {
    await (server as { close(o: { gracePeriod: number }): Promise<unknown> }).close({ gracePeriod: 0 });
    return;
  }
  if ('server' in server) {
    await server.close();
    return;
  }
  const closed = new Promise((resolve) => (server as { close(cb: () => void): unknown }).close(() => resolve(undefined)));
  (server as { closeAllConnections?(): void }).closeAllConnections?.();
  await closed;
}

/** `files.example` is the example's source, `load` imports it (a literal `import()` beside the test). */
export function readmeExample<S extends ExampleServer>(
  files: { example: URL; readme: URL },
  load: () => Promise<{ server: S }>,
): ReadmeExample<S> {
  let server: S | undefined;
  beforeAll(async () => {
    process.env.LISTEN = '127.0.0.1:0';
    process.env.PORT = '0';
    ({ server } = await load());
    if ('listening' in server && server.listening === false) await once(server as unknown as NodeJS.EventEmitter, 'listening');
  });
  afterAll(() => (server ? stop(server) : undefined));
  return {
    source: readFileSync(files.example, 'utf8'),
    readme: readFileSync(files.readme, 'utf8'),
    get server(): S {
      if (!server) throw new Error('the README example has not started: its server exists from the first test on');
      return server;
    },
    get url(): string {
      return urlOf(this.server);
    },
  };
}
