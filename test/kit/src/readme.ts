/**
 * The README-example harness. A README's code example is a file beside its test, shown in the
 * README verbatim: the test imports and runs that file, so the example users copy is code that
 * passes. The example listens on `process.env.LISTEN` (an ephemeral port here) and exports the
 * `server` it started; the harness starts it before the file's tests and closes it after them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

export interface ReadmeExample<S> {
  /** The example file's text: what the README must show. */
  readonly source: string;
  /** The README's text. */
  readonly readme: string;
  /** The server the example started (from the first test on). */
  readonly server: S;
}

/** `files.example` is the example's source, `load` imports it (a literal `import()` beside the test). */
export function readmeExample<S extends { close(options: { gracePeriod: number }): Promise<unknown> }>(
  files: { example: URL; readme: URL },
  load: () => Promise<{ server: S }>,
): ReadmeExample<S> {
  let server: S | undefined;
  beforeAll(async () => {
    process.env.LISTEN = '127.0.0.1:0';
    ({ server } = await load());
  });
  afterAll(() => server?.close({ gracePeriod: 0 }));
  return {
    source: readFileSync(files.example, 'utf8'),
    readme: readFileSync(files.readme, 'utf8'),
    get server(): S {
      if (!server) throw new Error('the README example has not started: its server exists from the first test on');
      return server;
    },
  };
}
