import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defer } from '@ferry/test-kit/lifecycle';

/**
 * An upstream on 127.0.0.1 answering `/<size>` with `bodies.get(size)` and a Content-Length, and
 * `/chunked/<size>` with the same body chunked, in uneven pieces — some written in one tick, so
 * one read of the proxy holds several chunks. `text/plain`: a type encode compresses. Closed
 * after the test.
 */
export async function sizedUpstream(bodies: ReadonlyMap<number, Buffer>): Promise<{ server: Server; dial: string }> {
  const server = createServer((req, res) => {
    const chunked = req.url!.startsWith('/chunked/');
    const body = bodies.get(Number(req.url!.split('/').pop()))!;
    res.setHeader('content-type', 'text/plain');
    if (!chunked) {
      res.setHeader('content-length', body.length);
      res.end(body);
      return;
    }
    let at = 0;
    const step = () => {
      if (res.destroyed) return;
      for (let i = 0; i < 3 && at < body.length; i++) {
        const n = Math.min(body.length - at, 1 + ((at * 7919) % 50_000));
        res.write(body.subarray(at, at + n));
        at += n;
      }
      if (at < body.length) setImmediate(step);
      else res.end();
    };
    step();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r(undefined)));
  });
  return { server, dial: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}
