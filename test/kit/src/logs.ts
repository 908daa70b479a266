import { Writable } from 'node:stream';

/**
 * A destination for a JSON-lines logger (pino's second argument) that keeps each line parsed in
 * `lines`, for tests that assert what a server logged.
 */
export function logLines(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { stream, lines };
}
