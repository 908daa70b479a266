/**
 * reverse_proxy in front of misbehaving raw-TCP upstreams: each failure maps to the right status
 * (502, 504) or, once the response has started, to an aborted client response; the proxy keeps
 * serving afterwards, and every socket to a misbehaving upstream is closed.
 */
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';
import { eventually } from '@ferry/test-kit/waiting';
import { createServer, path, type FerryServer } from '@ferry/core';
import { reverseProxy } from '@ferry/proxy';

/** A raw TCP upstream that counts its sockets: accepted in all, and still open. */
interface RawUpstream {
  server: NetServer;
  port: number;
  accepted: number;
  open: number;
  /** Open sockets on which a request arrived (the spare connections undici dials are not counted). */
  openUsed: number;
}

async function rawUpstream(onSocket: (socket: Socket) => void): Promise<RawUpstream> {
  const sockets = new Set<Socket>();
  const server = createNetServer();
  const up: RawUpstream = { server, port: 0, accepted: 0, open: 0, openUsed: 0 };
  server.on('connection', (socket) => {
    up.accepted++;
    up.open++;
    sockets.add(socket);
    socket.on('error', () => {});
    let used = false;
    socket.once('data', () => {
      used = true;
      up.openUsed++;
    });
    socket.once('close', () => {
      up.open--;
      if (used) up.openUsed--;
      sockets.delete(socket);
    });
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  up.port = (server.address() as { port: number }).port;
  defer(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return up;
}

/** Calls `fn` once the request head has arrived on `socket` (the proxy has sent its request). */
function afterRequestHead(socket: Socket, fn: () => void): void {
  let buf = '';
  const onData = (chunk: Buffer) => {
    buf += chunk.toString('latin1');
    if (buf.includes('\r\n\r\n')) {
      socket.off('data', onData);
      fn();
    }
  };
  socket.on('data', onData);
}

/** A healthy node:http upstream, for the "the proxy still works" request. */
async function goodUpstream(): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((_req, res) => res.end('good'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  defer(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** A Ferry proxy: `/good` to the healthy upstream, everything else to the bad one. */
async function proxy(badPort: number, goodPort: number, transport: Record<string, unknown> = {}): Promise<FerryServer> {
  const s = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    routes: [
      { match: [path('/good')], handle: [reverseProxy({ upstreams: [{ dial: `127.0.0.1:${goodPort}` }] })], terminal: true },
      { handle: [reverseProxy({ upstreams: [{ dial: `127.0.0.1:${badPort}` }], transport })] },
    ],
  });
  await s.listen();
  defer(() => s.close({ gracePeriod: 0 }));
  return s;
}

interface Outcome {
  status: number;
  body: Buffer;
  /** 'end': the body ended cleanly; 'aborted': the response was cut (error / close without end). */
  ending: 'end' | 'aborted';
}

/** One GET on its own connection (no agent), with a bound on how long it may take. */
function get(port: number, urlPath: string, withinMs = 5000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`GET ${urlPath}: no outcome within ${withinMs}ms`));
    }, withinMs);
    const req = httpRequest({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let settled = false;
      const settle = (ending: Outcome['ending']) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ending });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => settle(res.complete ? 'end' : 'aborted'));
      res.on('aborted', () => settle('aborted'));
      res.on('error', () => settle('aborted'));
      res.on('close', () => settle(res.complete ? 'end' : 'aborted'));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

function portOf(s: FerryServer): number {
  return s.addresses[0]!.port;
}

/** After a bad exchange: the proxy still serves, and the bad upstream holds no open socket. */
async function stillHealthy(p: FerryServer, up: RawUpstream | undefined): Promise<void> {
  const ok = await get(portOf(p), '/good');
  expect(ok.status).toBe(200);
  expect(ok.body.toString()).toBe('good');
  expect(ok.ending).toBe('end');
  if (up) {
    expect(up.accepted).toBeGreaterThan(0);
    await eventually(
      () => up.open === 0,
      3000,
      () => `${up.open} of ${up.accepted} upstream sockets still open`,
    );
  }
}

describe('reverse_proxy against misbehaving upstreams', () => {
  it('502 when nothing listens on the upstream port (connection refused)', async () => {
    const probe = createNetServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const good = await goodUpstream();
    const p = await proxy(deadPort, good.port);

    for (let i = 0; i < 3; i++) {
      const r = await get(portOf(p), '/x');
      expect(r.status).toBe(502);
      expect(r.ending).toBe('end');
    }
    await stillHealthy(p, undefined);
  });

  it('502 when the upstream accepts and resets at once', async () => {
    const up = await rawUpstream((socket) => socket.resetAndDestroy());
    const good = await goodUpstream();
    const p = await proxy(up.port, good.port);

    for (let i = 0; i < 3; i++) {
      const r = await get(portOf(p), '/x');
      expect(r.status).toBe(502);
    }
    await stillHealthy(p, up);
  });

  it('502 when the upstream resets after reading the request', async () => {
    const up = await rawUpstream((socket) => afterRequestHead(socket, () => socket.resetAndDestroy()));
    const good = await goodUpstream();
    const p = await proxy(up.port, good.port);

    for (let i = 0; i < 3; i++) {
      const r = await get(portOf(p), '/x');
      expect(r.status).toBe(502);
    }
    await stillHealthy(p, up);
  });

  it('504 when the upstream stalls without answering (response_header_timeout 300ms), and its socket is closed', async () => {
    const up = await rawUpstream(() => {
      // reads the request, never answers, never closes
    });
    const good = await goodUpstream();
    // keep_alive.idle_timeout 1s: see the spare-connection note below.
    const p = await proxy(up.port, good.port, { responseHeaderTimeout: '300ms', keepAlive: { idleTimeout: '1s' } });

    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const r = await get(portOf(p), '/x');
      const took = performance.now() - started;
      expect(r.status).toBe(504);
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(2500);
      // The socket the stalled request went out on is destroyed with the 504.
      await eventually(
        () => up.openUsed === 0,
        1000,
        () => `${up.openUsed} stalled upstream sockets still open after the 504`,
      );
    }
    // undici's pool redials a spare connection after aborting an in-flight request (the aborted
    // request stays queued as "pending" and kResume connects for it, then skips it). That spare
    // never carries a request and is closed by keep_alive.idle_timeout (default 2m).
    const ok = await get(portOf(p), '/good');
    expect(ok.status).toBe(200);
    await eventually(
      () => up.open === 0,
      3000,
      () => `${up.open} of ${up.accepted} upstream sockets still open`,
    );
  });

  it('a client that goes away while the upstream stalls: the stalled upstream socket is closed', async () => {
    const up = await rawUpstream(() => {});
    const good = await goodUpstream();
    const p = await proxy(up.port, good.port, { keepAlive: { idleTimeout: '1s' } });
    const req = httpRequest({ host: '127.0.0.1', port: portOf(p), path: '/x', agent: false });
    req.on('error', () => {});
    req.end();
    await eventually(
      () => up.openUsed === 1,
      2000,
      () => 'the request never reached the upstream',
    );
    req.destroy();
    await eventually(
      () => up.openUsed === 0,
      1000,
      () => 'the stalled upstream socket outlived its client',
    );
    await stillHealthy(p, up);
  });

  for (const [label, garbage] of [
    ['a garbage status line (HTTP/1.1 abc)', 'HTTP/1.1 abc\r\n\r\n'],
    ['plain garbage bytes', 'hello this is not http at all\r\n\r\n\x00\x01\x02\xff'],
    ['a status line without headers end, then close', 'HTTP/1.1 200 OK\r\nContent-Le'],
  ] as const) {
    it(`502 when the upstream sends ${label}`, async () => {
      const up = await rawUpstream((socket) =>
        afterRequestHead(socket, () => {
          socket.write(Buffer.from(garbage, 'latin1'));
          // Plain garbage without a close: the proxy must give up on the socket by itself.
          if (garbage.startsWith('HTTP/1.1 200')) socket.end();
        }),
      );
      const good = await goodUpstream();
      const p = await proxy(up.port, good.port);

      for (let i = 0; i < 3; i++) {
        const r = await get(portOf(p), '/x');
        expect(r.status).toBe(502);
      }
      await stillHealthy(p, up);
    });
  }

  it('aborts the client response when the upstream closes mid-body (Content-Length 1000, 10 bytes sent)', async () => {
    const up = await rawUpstream((socket) =>
      afterRequestHead(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789');
        setTimeout(() => socket.end(), 50);
      }),
    );
    const good = await goodUpstream();
    const p = await proxy(up.port, good.port);

    for (let i = 0; i < 3; i++) {
      const r = await get(portOf(p), '/x');
      expect(r.status).toBe(200);
      expect(r.ending).toBe('aborted');
      expect(r.body.length).toBeLessThan(1000);
    }
    await stillHealthy(p, up);
  });

  it('aborts the client response when the upstream resets mid-body of a chunked response', async () => {
    const up = await rawUpstream((socket) =>
      afterRequestHead(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n');
        setTimeout(() => socket.resetAndDestroy(), 50);
      }),
    );
    const good = await goodUpstream();
    const p = await proxy(up.port, good.port);

    for (let i = 0; i < 3; i++) {
      const r = await get(portOf(p), '/x');
      expect(r.status).toBe(200);
      expect(r.ending).toBe('aborted');
      expect(r.body.toString()).toBe('0123456789');
    }
    await stillHealthy(p, up);
  });

  it('a healthy keep-alive upstream keeps at most its pooled sockets (control)', async () => {
    const up = await rawUpstream((socket) => {
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        }
      });
    });
    const good = await goodUpstream();
    const p = await proxy(up.port, good.port);
    for (let i = 0; i < 5; i++) {
      const r = await get(portOf(p), '/x');
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('ok');
    }
    // Sequential requests reuse one pooled connection.
    expect(up.accepted).toBe(1);
    expect(up.open).toBeLessThanOrEqual(1);
    // Closing the proxy closes its pool.
    await p.close({ gracePeriod: 0 });
    await eventually(
      () => up.open === 0,
      3000,
      () => `${up.open} upstream sockets open after the proxy closed`,
    );
  });
});
