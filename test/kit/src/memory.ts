import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * Heap and external memory still held after a full collection, in bytes: what the process keeps,
 * not garbage V8 has yet to collect (tests push many MB through).
 */
export function retainedBytes(): number {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}
