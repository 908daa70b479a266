// Preloaded (NODE_OPTIONS=--expose-gc --import …) into a server of the sse-fanout scenario: it
// answers on the Unix socket $BENCH_MEMORY_PROBE with the process's memory after a full GC, as
// one JSON line, so the load generator can read heap and RSS per subscriber.
import { unlinkSync } from 'node:fs';
import { createServer } from 'node:net';

const path = process.env.BENCH_MEMORY_PROBE;
if (path) {
  const probe = createServer((socket) => {
    globalThis.gc?.();
    globalThis.gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    socket.end(`${JSON.stringify({ heapUsed, rss, gc: typeof globalThis.gc === 'function' })}\n`);
  });
  try {
    unlinkSync(path);
  } catch {}
  probe.on('error', (e) => process.stderr.write(`memory probe: ${e.message}\n`));
  probe.listen(path);
  probe.unref();
}
