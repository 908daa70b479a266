import { once } from 'node:events';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FerryServer, Handler } from '@ferry/core';
import { defer, deferred, h1Request, h2Answer, h2Request, rawSocket, startServer } from './helpers.js';
import { certificates } from '@ferry/test-kit/certs';
import { h2Session } from '@ferry/test-kit/clients';
import { refused } from '@ferry/test-kit/ports';
import { portOf } from '@ferry/test-kit/servers';

const BODY_HEAD = 'first half|';
const BODY_TAIL = 'second half'.repeat(1000);

/** A handler that writes half its body, then waits for the test to let it finish. */
function held() {
  const entered = deferred();
  const release = deferred();
  const finished = deferred();
  const handler: Handler = async (_req, res) => {
    res.once('finish', () => finished.resolve());
    res.write(BODY_HEAD);
    entered.resolve();
    await release.promise;
    res.end(BODY_TAIL);
  };
  return { handler, entered: entered.promise, release: release.resolve, finished: finished.promise };
}

/** Starts a close and tracks whether it has resolved. */
function closing(server: FerryServer, gracePeriod: string) {
  const started = performance.now();
  const state = { done: false, took: 0 };
  const promise = server.close({ gracePeriod }).then(() => {
    state.done = true;
    state.took = performance.now() - started;
  });
  return { state, promise };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('graceful stop', () => {
  it('lets an in-flight HTTP/1.1 request finish with its full body, refuses new connections, then resolves', async () => {
    const h = held();
    const server = await startServer({ handler: h.handler });
    const port = portOf(server);
    const answer = h1Request({ host: '127.0.0.1', port, path: '/slow' });
    await h.entered;

    const c = closing(server, '5s');
    expect(await refused(port)).toBe(true);
    await tick();
    expect(c.state.done).toBe(false);
    expect(server.activeRequests).toBe(1);

    let finishedBeforeClose = false;
    void h.finished.then(() => (finishedBeforeClose = !c.state.done));
    h.release();
    const a = await answer;
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe(BODY_HEAD + BODY_TAIL);
    await c.promise;
    expect(finishedBeforeClose).toBe(true);
    expect(c.state.took).toBeLessThan(2000);
  });

  it('lets an in-flight h2 stream finish with its full body, refuses new connections, then resolves', async () => {
    const { ca, tls: certs } = certificates();
    const h = held();
    const server = await startServer({ tls: certs, handler: h.handler });
    const session = await h2Session(server.url, { ca });
    const answer = h2Request(session, { ':path': '/slow' });
    await h.entered;

    const c = closing(server, '5s');
    expect(await refused(portOf(server))).toBe(true);
    await tick();
    expect(c.state.done).toBe(false);

    h.release();
    const a = await answer;
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe(BODY_HEAD + BODY_TAIL);
    await c.promise;
    expect(c.state.took).toBeLessThan(2000);
  });

  it('cuts a never-finishing HTTP/1.1 request once the grace period (200ms) is over, and resolves promptly', async () => {
    const entered = deferred();
    const aborted = deferred();
    const server = await startServer({
      handler: async (req, res) => {
        res.write('started');
        req.signal.addEventListener('abort', () => aborted.resolve());
        entered.resolve();
        await new Promise(() => {});
      },
    });
    const req = httpRequest({ host: '127.0.0.1', port: portOf(server), path: '/forever', agent: false });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.on('error', () => {});
    await entered.promise;

    const c = closing(server, '200ms');
    // The client sees the response cut short, never a clean end.
    const cut = await new Promise<string>((resolve) => {
      res.on('end', () => resolve('ended cleanly'));
      res.on('aborted', () => resolve('aborted'));
      res.on('close', () => resolve(res.complete ? 'ended cleanly' : 'aborted'));
      res.resume();
    });
    expect(cut).toBe('aborted');
    await c.promise;
    await aborted.promise;
    expect(c.state.took).toBeGreaterThanOrEqual(150);
    expect(c.state.took).toBeLessThan(1500);
  });

  it('cuts a never-finishing h2 stream once the grace period (200ms) is over, and resolves promptly', async () => {
    const { ca, tls: certs } = certificates();
    const entered = deferred();
    const server = await startServer({
      tls: certs,
      handler: async (_req, res) => {
        res.flush();
        entered.resolve();
        await new Promise(() => {});
      },
    });
    const session = await h2Session(server.url, { ca });
    const stream = session.request({ ':path': '/forever' });
    stream.on('error', () => {});
    await entered.promise;
    const c = closing(server, '200ms');
    await once(stream, 'close');
    // Reset, not ended: a client can tell the response was cut (Node's client emits 'end' either way).
    expect(stream.rstCode).not.toBe(0);
    await c.promise;
    expect(c.state.took).toBeGreaterThanOrEqual(150);
    expect(c.state.took).toBeLessThan(1500);
  });

  for (const protocols of [['h1'], ['h1', 'h2c']] as const) {
    it(`closes idle keep-alive connections at once while another request is in flight (protocols ${protocols.join(', ')})`, async () => {
      const h = held();
      const server = await startServer({
        protocols,
        handler: async (req, res) => (req.path === '/slow' ? h.handler(req, res) : void res.end('quick')),
      });
      const port = portOf(server);
      const agent = new Agent({ keepAlive: true });
      defer(() => agent.destroy());
      await h1Request({ host: '127.0.0.1', port, path: '/', agent });
      const [idle] = Object.values(agent.freeSockets).flat();
      const idleClosed = once(idle!, 'close');
      const slow = h1Request({ host: '127.0.0.1', port, path: '/slow' });
      await h.entered;

      const c = closing(server, '5s');
      await idleClosed;
      expect(c.state.done).toBe(false);
      h.release();
      expect((await slow).body.toString()).toBe(BODY_HEAD + BODY_TAIL);
      await c.promise;
    });
  }

  it('is not delayed by idle keep-alive connections, idle h2 sessions or silent sockets', async () => {
    const { ca, tls: certs } = certificates();
    const plain = await startServer({ protocols: ['h1', 'h2c'], handler: async (_req, res) => void res.end('hi') });
    const secure = await startServer({ tls: certs, handler: async (_req, res) => void res.end('hi') });

    const agent = new Agent({ keepAlive: true });
    defer(() => agent.destroy());
    const first = await h1Request({ host: '127.0.0.1', port: portOf(plain), path: '/', agent });
    expect(first.headers.connection).toBe('keep-alive');
    const h2c = await h2Session(plain.url);
    expect((await h2Request(h2c, { ':path': '/' })).body.toString()).toBe('hi');
    const h2 = await h2Session(secure.url, { ca });
    expect((await h2Answer(h2.request({ ':path': '/' }))).body.toString()).toBe('hi');
    const silent = await rawSocket(portOf(plain));

    const c1 = closing(plain, '5s');
    const c2 = closing(secure, '5s');
    await Promise.all([c1.promise, c2.promise, silent.closed, once(h2c, 'close'), once(h2, 'close')]);
    expect(c1.state.took).toBeLessThan(1000);
    expect(c2.state.took).toBeLessThan(1000);
  });
});
