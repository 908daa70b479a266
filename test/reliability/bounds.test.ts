/**
 * Resource bounds of a Ferry server running in a child process (`ferry run --config F`): many
 * idle keep-alive connections, many open SSE streams, and a slow reader of a large proxied
 * response. RSS figures are printed for the record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';

const CLI = fileURLToPath(new URL('../../apps/ferry/dist/cli.js', import.meta.url));

const MB = 1024 * 1024;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb * 1024;
}
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

interface Child {
  proc: ChildProcess;
  pid: number;
  port: number;
}

/** `ferry run` with one h1 server on 127.0.0.1:0 serving `routes`; resolves once it listens. */
async function ferry(routes: unknown[], server: Record<string, unknown> = {}): Promise<Child> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bounds-'));
  const file = join(dir, 'ferry.json');
  writeFileSync(
    file,
    JSON.stringify({
      admin: { disabled: true },
      apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], protocols: ['h1'], idle_timeout: '5m', routes, ...server } } } },
    }),
  );
  const proc = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  defer(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await once(proc, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  let stderr = '';
  // The JSON log is on stderr: kept (its start) for error messages, and always drained.
  proc.stderr!.on('data', (c: Buffer) => {
    if (stderr.length < 8192) stderr += c.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry did not listen within 10s; stderr: ${stderr}`)), 10_000);
    let buf = '';
    const onData = (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as { msg?: string; port?: number };
          if (rec.msg === 'listening' && rec.port) {
            clearTimeout(timer);
            proc.stderr!.off('data', onData);
            resolve(rec.port);
            return;
          }
        } catch {
          // not JSON
        }
      }
    };
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry exited (${code}) before listening; stderr: ${stderr}`));
    });
  });
  return { proc, pid: proc.pid!, port };
}

/** Sockets opened by the test, destroyed after it. */
function track(sockets: Socket[]) {
  defer(() => {
    for (const s of sockets) s.destroy();
  });
}

/** Opens a socket, sends `request`, resolves once `done(received)` holds. */
function exchange(
  port: number,
  request: string,
  done: (received: string) => boolean,
  sockets: Socket[],
  withinMs = 10_000,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    sockets.push(socket);
    let received = '';
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${withinMs}ms: ${JSON.stringify(received.slice(0, 200))}`)),
      withinMs,
    );
    const onData = (c: Buffer) => {
      received += c.toString('latin1');
      if (done(received)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(socket);
      }
    };
    socket.on('data', onData);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => socket.write(request));
  });
}

/** Runs `n` jobs, `batch` at a time. */
async function inBatches<T>(n: number, batch: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => job(i + k)))));
  }
  return out;
}

async function timedGet(port: number, path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - started }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('fresh request timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('resource bounds (ferry in a child process)', () => {
  it('holds 10,000 idle keep-alive connections and 5,000 SSE streams at once; a fresh client is served and every stream gets an event', async () => {
    const IDLE = 10_000;
    const STREAMS = 5_000;
    const child = await ferry([
      { match: [{ path: ['/publish'] }], handle: [{ handler: 'sse_publish', topic: 't' }], terminal: true },
      // Every stream comes from 127.0.0.1: the per-address bound (1,000 by default) is raised for this load.
      {
        match: [{ path: ['/events'] }],
        handle: [{ handler: 'sse', topic: 't', heartbeat: '0s', max_subscriptions_per_address: STREAMS }],
        terminal: true,
      },
      { handle: [{ handler: 'static_response', body: 'ok' }] },
    ]);
    const warm = await timedGet(child.port, '/');
    expect(warm.body).toBe('ok');
    const before = rssOf(child.pid);

    const idle: Socket[] = [];
    const streams: Socket[] = [];
    track(idle);
    track(streams);
    const started = performance.now();
    await inBatches(IDLE, 500, () => exchange(child.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', (r) => r.includes('\r\n\r\nok'), idle));
    const idleMs = performance.now() - started;
    const withIdle = rssOf(child.pid);
    await inBatches(STREAMS, 500, () =>
      exchange(child.port, 'GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n', (r) => r.includes('\r\n\r\n'), streams),
    );
    const openMs = performance.now() - started;
    let closed = 0;
    for (const s of [...idle, ...streams]) s.once('close', () => closed++);
    const held = rssOf(child.pid);

    // With all 15,000 held, a fresh client is served promptly and nothing was closed.
    const fresh = await timedGet(child.port, '/');
    expect(fresh.status).toBe(200);
    expect(fresh.body).toBe('ok');
    expect(fresh.ms).toBeLessThan(1000);
    expect(closed).toBe(0);
    expect(idle.filter((s) => !s.destroyed && s.readyState === 'open')).toHaveLength(IDLE);
    expect(streams.filter((s) => !s.destroyed)).toHaveLength(STREAMS);

    // Every stream gets a published event.
    let got = 0;
    const all = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${got} of ${STREAMS} streams got the event within 10s`)), 10_000);
      for (const s of streams) {
        let r = '';
        const onData = (c: Buffer) => {
          r += c.toString('latin1');
          if (r.includes('data: hello-all')) {
            s.off('data', onData);
            if (++got === STREAMS) {
              clearTimeout(t);
              resolve();
            }
          }
        };
        s.on('data', onData);
      }
    });
    const published = performance.now();
    const pub = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: child.port, path: '/publish', method: 'POST', agent: false, headers: { 'content-type': 'text/plain' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('hello-all');
    });
    expect(pub).toBe(202);
    await all;
    const fanoutMs = performance.now() - published;

    // Each held idle connection is still usable: a second request on a sample of them.
    const sample = idle.filter((_, i) => i % 1000 === 0);
    await Promise.all(
      sample.map(
        (s) =>
          new Promise<void>((resolve, reject) => {
            let r = '';
            const t = setTimeout(() => reject(new Error('held connection did not answer')), 5000);
            s.on('data', (c: Buffer) => {
              r += c.toString('latin1');
              if (r.includes('\r\n\r\nok')) {
                clearTimeout(t);
                resolve();
              }
            });
            s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
          }),
      ),
    );

    console.log(
      `[bounds] ${IDLE} idle keep-alive + ${STREAMS} SSE streams at once: opened in ${Math.round(openMs)} ms (idle ones in ${Math.round(idleMs)} ms); ` +
        `server RSS before ${mb(before)}, with the idle ones ${mb(withIdle)} (+${mb(withIdle - before)}), with all ${mb(held)} (+${mb(held - before)}); ` +
        `fresh request ${fresh.ms.toFixed(1)} ms; an event reached all streams in ${Math.round(fanoutMs)} ms`,
    );
    for (const s of [...idle, ...streams]) s.destroy();
  }, 25_000);

  it('a slow reader of a 200 MiB proxied response keeps the proxy RSS bounded, and gets every byte', async () => {
    const TOTAL = 200 * MB;
    const CHUNK = Buffer.alloc(64 * 1024, 'x');
    let upstreamSent = 0;
    const upstream = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
      const pump = () => {
        while (upstreamSent < TOTAL) {
          upstreamSent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    defer(async () => {
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    });
    const upPort = (upstream.address() as { port: number }).port;
    const child = await ferry([{ handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: `127.0.0.1:${upPort}` }] }] }]);
    const baseline = rssOf(child.pid);

    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(child.pid));
      } catch {
        // exited
      }
    }, 50);
    defer(() => clearInterval(sampler));

    const { received, complete, pausedRss, ahead } = await new Promise<{
      received: number;
      complete: boolean;
      pausedRss: number[];
      ahead: number[];
    }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: child.port, path: '/big', agent: false }, (res) => {
        expect(res.statusCode).toBe(200);
        let got = 0;
        const pausedRss: number[] = [];
        // How far the upstream got ahead of the reader by the end of each pause (bytes in flight:
        // socket buffers of both hops plus whatever the proxy holds).
        const ahead: number[] = [];
        // Throttled: three 1 s pauses (at the start, after 50 MiB, after 120 MiB), full speed in between.
        const pauseAt = [0, 50 * MB, 120 * MB];
        const maybePause = () => {
          if (pauseAt.length > 0 && got >= pauseAt[0]!) {
            pauseAt.shift();
            res.pause();
            setTimeout(() => {
              pausedRss.push(rssOf(child.pid));
              ahead.push(upstreamSent - got);
              res.resume();
            }, 1000);
          }
        };
        maybePause();
        res.on('data', (c: Buffer) => {
          got += c.length;
          maybePause();
        });
        res.on('end', () => resolve({ received: got, complete: res.complete, pausedRss, ahead }));
        res.on('error', reject);
      });
      req.setTimeout(20_000, () => req.destroy(new Error('slow transfer timed out')));
      req.on('error', reject);
      req.end();
    });
    clearInterval(sampler);
    expect(complete).toBe(true);
    expect(received).toBe(TOTAL);
    expect(pausedRss).toHaveLength(3);
    console.log(
      `[bounds] slow reader of 200 MiB: proxy RSS baseline ${mb(baseline)}, during 1 s pauses ${pausedRss.map(mb).join(' / ')}, ` +
        `peak ${mb(peak)} (+${mb(peak - baseline)}); upstream ahead of the reader at the end of each pause ${ahead.map(mb).join(' / ')}; received ${received} bytes`,
    );
    for (const r of pausedRss) expect(r - baseline).toBeLessThan(100 * MB);
    // Backpressure reached the upstream: it stalled while the reader paused.
    // (loopback TCP buffers autotune to several MiB per socket, four sockets on the path; 200 MiB if unbounded.)
    for (const a of ahead) expect(a).toBeLessThan(80 * MB);
    expect(peak - baseline).toBeLessThan(100 * MB);
  }, 25_000);
});
