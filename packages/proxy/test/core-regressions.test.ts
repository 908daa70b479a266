/**
 * Behaviour of @ferry/core that the proxy's acceptance tests ran into and that core once got
 * wrong (each fixed in core since): kept here as regression tests.
 */
import { createServer } from '@ferry/core';
import { describe, expect, it } from 'vitest';
import { defer, deferred } from './helpers/net.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';

describe('@ferry/core (as the proxy relies on it)', () => {
  /*
   * server.ts handleError aborts a response whose headers went out with `res.destroy()`;
   * Http2Writer inherits Http2ServerResponse.destroy, which with no error resets the stream with
   * NGHTTP2_NO_ERROR — a client sees a clean end of a cut response. The proxy passes an error
   * (RST_STREAM INTERNAL_ERROR) since its own fix; core's error path does not.
   */
  it('resets an h2 stream with an error code when a handler throws after the headers went out', async () => {
    const { tls, ca } = certificates();
    const clientHasBytes = deferred();
    const server = createServer({
      listen: '127.0.0.1:0',
      logger: false,
      tls,
      protocols: ['h1', 'h2'],
      handler: async (_req, res) => {
        res.write('x'.repeat(100));
        res.flush();
        await clientHasBytes.promise;
        throw new Error('boom after the headers');
      },
    });
    await server.listen();
    defer(() => server.close({ gracePeriod: 0 }));
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': '/' });
    stream.on('error', () => {});
    let ended = false;
    stream.on('end', () => (ended = true));
    stream.on('data', () => clientHasBytes.resolve());
    await new Promise((r) => stream.on('close', r));
    expect(stream.rstCode).not.toBe(0);
    expect(ended).toBe(false);
  });

  /*
   * server.ts #h1Options: headersTimeout defaults to 60 s whatever read_timeout is, and Node
   * requires headersTimeout <= requestTimeout, so `readTimeout: '30s'` alone (valid in Caddy)
   * makes listen() throw a RangeError. Clamp the header timeout to read_timeout when it is set.
   */
  it('accepts a read_timeout shorter than the default read_header_timeout', async () => {
    const server = createServer({ listen: '127.0.0.1:0', logger: false, readTimeout: '30s', handler: async () => {} });
    defer(() => server.close({ gracePeriod: 0 }));
    await server.listen();
    expect(server.addresses).toHaveLength(1);
  });
});
