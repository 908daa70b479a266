/**
 * Named pipes for tests of file loading: a loader that opens one without care blocks until a
 * writer comes. Each pipe made here is released after the test (a writer opens and closes it), so
 * a hung read in the code under test ends with the test instead of holding the worker.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { defer } from './lifecycle.js';

/** Makes a FIFO `name` in `dir` and returns its path. */
export function makeFifo(dir: string, name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  defer(() => {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is reading it
    }
  });
  return path;
}
