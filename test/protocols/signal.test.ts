import { once } from 'node:events';
import { constants as h2constants } from 'node:http2';
import { describe, expect, it } from 'vitest';
import { ClientGoneError, type Handler } from '@ferry/core';
import { deferred, h1Request, h2Answer, rawSocket, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { portOf } from '@ferry/test-kit/servers';

/**
 * A handler that does nothing but wait for its request's signal (optionally after sending the
 * headers, as an event stream would), and reports when it entered and when the abort came.
 */
function waiter(options: { flushFirst?: boolean } = {}) {
  const entered = deferred();
  const aborted = deferred<{ at: number; reason: unknown }>();
  const handler: Handler = async (req, res) => {
    if (options.flushFirst) {
      res.setHeader('content-type', 'text/event-stream');
      res.flush();
    }
    const signal = req.signal;
    entered.resolve();
    await once(signal, 'abort');
    aborted.resolve({ at: performance.now(), reason: signal.reason });
  };
  return { handler, entered: entered.promise, aborted: aborted.promise };
}

/** Makes the client go away with `leave`, and checks the waiting handler saw it within a second. */
async function abortsWithinOneSecond(w: ReturnType<typeof waiter>, leave: () => void): Promise<void> {
  await w.entered;
  const left = performance.now();
  leave();
  const { at, reason } = await w.aborted;
  expect(at - left).toBeLessThan(1000);
  expect(reason).toBeInstanceOf(ClientGoneError);
}

describe('req.signal aborts when the client goes away, while the handler only waits', () => {
  it('HTTP/1.1: the client destroys its socket', async () => {
    const w = waiter();
    const server = await startServer({ handler: w.handler });
    const client = await rawSocket(portOf(server));
    client.socket.write('GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await abortsWithinOneSecond(w, () => client.socket.destroy());
  });

  it('HTTP/1.1: the client leaves after the headers were flushed (an event stream)', async () => {
    const w = waiter({ flushFirst: true });
    const server = await startServer({ handler: w.handler });
    const client = await rawSocket(portOf(server));
    client.socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await client.head();
    await abortsWithinOneSecond(w, () => client.socket.destroy());
  });

  it('HTTP/1.1: the client leaves in the middle of sending the body', async () => {
    const w = waiter();
    const server = await startServer({ handler: w.handler });
    const client = await rawSocket(portOf(server));
    client.socket.write('POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nonly part');
    await abortsWithinOneSecond(w, () => client.socket.destroy());
  });

  it('h2: the client resets the stream (NGHTTP2_CANCEL)', async () => {
    const { ca, tls: certs } = certificates();
    const w = waiter();
    const server = await startServer({ tls: certs, handler: w.handler });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': '/wait' });
    stream.on('error', () => {});
    await abortsWithinOneSecond(w, () => stream.close(h2constants.NGHTTP2_CANCEL));
    // Only that stream went: the session still serves.
    expect(session.destroyed).toBe(false);
  });

  it('h2: the client resets the stream after the headers were flushed', async () => {
    const { ca, tls: certs } = certificates();
    const w = waiter({ flushFirst: true });
    const server = await startServer({ tls: certs, handler: w.handler });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': '/events' });
    stream.on('error', () => {});
    await once(stream, 'response');
    await abortsWithinOneSecond(w, () => stream.close(h2constants.NGHTTP2_CANCEL));
  });

  it('h2: the client resets with NO_ERROR while response bytes wait on its flow-control window', async () => {
    // Node's client resets with NO_ERROR when a stream is destroyed without an error. Node's server
    // then ends the stream's writable side and waits for it to finish, which queued writes never do
    // on a closed stream: no 'close', no abort, unless Ferry destroys the stream itself.
    const { ca, tls: certs } = certificates();
    const queued = deferred();
    const w = waiter();
    const server = await startServer({
      tls: certs,
      handler: async (req, res) => {
        res.setHeader('content-type', 'application/octet-stream');
        // Past the client's 64 KiB window: these stay queued in the stream.
        for (let i = 0; i < 8 && res.write(Buffer.alloc(64 * 1024, 0x61)); i++);
        const closed = once(res, 'close');
        queued.resolve();
        await w.handler(req, res);
        await closed;
      },
    });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': '/big' });
    stream.on('error', () => {});
    await once(stream, 'response');
    await queued.promise;
    await abortsWithinOneSecond(w, () => stream.close(h2constants.NGHTTP2_NO_ERROR));
  });

  it('h2: the client resets with NO_ERROR after the handler ended a response still queued: the response closes', async () => {
    const { ca, tls: certs } = certificates();
    const ended = deferred();
    const closed = deferred<{ at: number; aborted: boolean }>();
    const server = await startServer({
      tls: certs,
      handler: async (req, res) => {
        res.once('close', () => closed.resolve({ at: performance.now(), aborted: req.signal.aborted }));
        for (let i = 0; i < 8; i++) res.write(Buffer.alloc(64 * 1024, 0x61));
        res.end();
        ended.resolve();
      },
    });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': '/big' });
    stream.on('error', () => {});
    await once(stream, 'response');
    await ended.promise;
    const left = performance.now();
    stream.close(h2constants.NGHTTP2_NO_ERROR);
    const { at, aborted } = await closed.promise;
    expect(at - left).toBeLessThan(1000);
    expect(aborted).toBe(true);
  });

  it('h2: the client destroys the session', async () => {
    const { ca, tls: certs } = certificates();
    const w = waiter();
    const server = await startServer({ tls: certs, handler: w.handler });
    const session = await h2Session(server.url, { ca });
    session.request({ ':path': '/wait' }).on('error', () => {});
    await abortsWithinOneSecond(w, () => session.destroy());
  });

  it('h2c on the shared port: the client resets the stream, and destroys the session', async () => {
    const w1 = waiter();
    const w2 = waiter();
    let n = 0;
    const server = await startServer({ protocols: ['h1', 'h2c'], handler: (req, res) => (n++ === 0 ? w1 : w2).handler(req, res) });
    const session = await h2Session(server.url);
    const stream = session.request({ ':path': '/one' });
    stream.on('error', () => {});
    await abortsWithinOneSecond(w1, () => stream.close(h2constants.NGHTTP2_CANCEL));
    session.request({ ':path': '/two' }).on('error', () => {});
    await abortsWithinOneSecond(w2, () => session.destroy());
  });
});

describe('req.signal does not abort for a request that completes normally', () => {
  /** Answers, then reports whether the signal had aborted once the response closed. */
  function answerer() {
    const settled = deferred<boolean>();
    const handler: Handler = async (req, res) => {
      const signal = req.signal;
      res.once('close', () => setImmediate(() => settled.resolve(signal.aborted)));
      res.end('done');
    };
    return { handler, abortedAfterClose: settled.promise };
  }

  it('HTTP/1.1, even when the client closes the connection afterwards', async () => {
    const a = answerer();
    const server = await startServer({ handler: a.handler });
    const client = await rawSocket(portOf(server));
    client.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await client.until((b) => b.toString().endsWith('done'));
    expect(await a.abortedAfterClose).toBe(false);
    client.socket.destroy();
    await client.closed;
    const again = await h1Request({ host: '127.0.0.1', port: portOf(server), path: '/' });
    expect(again.body.toString()).toBe('done');
  });

  it('h2, even when the client destroys the session afterwards', async () => {
    const { ca, tls: certs } = certificates();
    const a = answerer();
    const server = await startServer({ tls: certs, handler: a.handler });
    const session = await h2Session(server.url, { ca });
    const answer = await h2Answer(session.request({ ':path': '/' }));
    expect(answer.body.toString()).toBe('done');
    expect(await a.abortedAfterClose).toBe(false);
    session.destroy();
  });
});
