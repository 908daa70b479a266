import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * Heap and external memory still held after a full collection, in bytes: what the process keeps,
 * not garbage V8 has yet to collect (tests push many MB through).
 *
 * Two collections: V8 (Node 24 and later) releases the external memory of the buffers and strings
 * a collection found dead on a background thread, and counts it in `external` until then — up to
 * ~40 MB of freed bytes after 100 MB went through. The second collection waits for that release.
 */
export function retainedBytes(): number {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
