/**
 * An upstream's HTTP/1.1 connections let go of (a dynamic upstream evicted, the transport closed)
 * while requests to it are under way: one still connecting fails at once (nothing was sent), one
 * already sent gets its whole answer, and no connection is kept afterwards. The transport's own
 * pieces on real sockets: the pool, and one round trip through it.
 */
import { describe, expect, it } from 'vitest';
import { signalCancel } from '../src/cancel.js';
import { RoundTripError } from '../src/errors.js';
import type { ResponseSink } from '../src/transport.js';
import { exchange } from '../src/transport/h1-exchange.js';
import { H1Pool } from '../src/transport/h1-pool.js';
import { rawUpstream, sizedResponse } from './helpers/raw-h1.js';
import { deferred } from '@ferry/test-kit/lifecycle';
import { eventually, within } from '@ferry/test-kit/waiting';

/** A sink that keeps the status and body. */
function sink() {
  const got = { status: 0, body: '' };
  const s: ResponseSink = {
    informational: () => {},
    head: (status) => void (got.status = status),
    data: (chunk) => {
      got.body += chunk.toString();
      return true;
    },
    end: () => {},
  };
  return { got, sink: s };
}

const GET = () => ({ method: 'GET', path: '/', headers: {}, body: null, cancel: signalCancel(new AbortController().signal) });

function poolFor(port: number): H1Pool {
  return new H1Pool({ host: '127.0.0.1', port, dialTimeout: 2000, idleTimeout: 0, keepAlive: true });
}

describe('an upstream let go of while a request to it', () => {
  it('is still connecting: the round trip fails at once, and nothing reaches the upstream', async () => {
    const up = await rawUpstream((_req, socket) => socket.write(sizedResponse('ok')));
    const pool = poolFor(up.port);
    const { sink: s } = sink();
    const trip = exchange(pool, up.dial, GET(), s, 0);
    pool.close();
    const settled = await within(
      trip.then(
        () => 'completed',
        (err: unknown) => err,
      ),
      2000,
      'the round trip settled',
    );
    expect(settled).toBeInstanceOf(RoundTripError);
    expect(up.requests).toHaveLength(0);
  });

  it('was sent already: it gets its whole answer, and its connection closes after it', async () => {
    const answer = deferred();
    const up = await rawUpstream((_req, socket) => void answer.promise.then(() => socket.write(sizedResponse('whole answer'))));
    const pool = poolFor(up.port);
    const { got, sink: s } = sink();
    const trip = exchange(pool, up.dial, GET(), s, 0);
    await eventually(() => up.requests.length > 0, 2000, 'the request at the upstream');
    pool.close();
    answer.resolve();
    await within(trip, 2000, 'the round trip');
    expect(got).toEqual({ status: 200, body: 'whole answer' });
    await within(up.conns[0]!.closed, 2000, 'its connection closed');
  });
});
