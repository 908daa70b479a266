import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';
import { EventSourceClient } from '@ferry/test-kit/sse-client';
import { freePorts } from '@ferry/test-kit/ports';
import { configFile, fromEvery, get, runWorkers } from './helpers.js';

const BLOCK_PLUGIN = fileURLToPath(new URL('./fixtures/block-plugin.mjs', import.meta.url));

/**
 * `/metrics` under `--workers`: one exposition for the whole process group, summed by the primary,
 * so a scrape does not depend on which worker took its connection.
 */

function metricsConfig(port: number, opsPort: number, adminPort: number, block?: string) {
  const pid = { handler: 'headers', response: { set: { 'X-Pid': ['{system.pid}'] } } };
  return {
    admin: { listen: `127.0.0.1:${adminPort}` },
    apps: {
      http: {
        metrics: {},
        servers: {
          web: {
            listen: [`127.0.0.1:${port}`],
            routes: [
              { handle: [pid] },
              ...(block
                ? [{ match: [{ path: ['/block'] }], handle: [{ handler: 'test_block', slot: '1', while_exists: block }], terminal: true }]
                : []),
              { handle: [{ handler: 'static_response', body: 'hello' }] },
            ],
          },
          ops: {
            listen: [`127.0.0.1:${opsPort}`],
            routes: [
              { handle: [pid] },
              { match: [{ path: ['/own'] }], handle: [{ handler: 'metrics', scope: 'process' }], terminal: true },
              { match: [{ path: ['/status'] }], handle: [{ handler: 'ferry_status', interval: '100ms' }], terminal: true },
              { handle: [{ handler: 'metrics' }] },
            ],
          },
        },
      },
    },
  };
}

/** The value of one sample of the exposition `text`: `name` with exactly these labels (undefined if absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(labels).sort())) return Number(m[3]);
  }
  return undefined;
}

const OK = { server: 'web', method: 'GET', code: '200' };

describe('metrics under ferry run --workers N', () => {
  it('every scrape answers for all workers: counters and histograms summed, the primary’s own gauges added', async () => {
    const [port, opsPort, adminPort] = await freePorts(3);
    const { pids } = await runWorkers(2, ['--config', configFile(metricsConfig(port, opsPort, adminPort))]);
    const servedBy = new Map<number, number>();
    for (let i = 0; i < 60; i++) {
      const r = await get(port);
      expect(r).toMatchObject({ status: 200, body: 'hello' });
      servedBy.set(r.pid, (servedBy.get(r.pid) ?? 0) + 1);
    }
    // Both workers took some: otherwise a sum would prove nothing.
    expect([...servedBy.keys()].sort()).toEqual([...pids].sort());

    // New connections alternate between the workers: the same totals from either.
    const scrapers = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const r = await get(opsPort, '/metrics');
      expect(r.status).toBe(200);
      scrapers.add(r.pid);
      expect(sample(r.body, 'ferry_http_requests_total', OK)).toBe(60);
      expect(sample(r.body, 'ferry_http_request_duration_seconds_count', OK)).toBe(60);
      expect(sample(r.body, 'ferry_workers')).toBe(2);
      expect(sample(r.body, 'ferry_worker_restarts_total')).toBe(0);
    }
    expect(scrapers.size).toBe(2);

    // `scope: "process"`: each worker's own share, which add up to the same.
    for (const r of await fromEvery(opsPort, pids, 40, '/own')) {
      expect(sample(r.body, 'ferry_http_requests_total', OK)).toBe(servedBy.get(r.pid));
      expect(sample(r.body, 'ferry_workers')).toBeUndefined();
    }
  });

  it('a worker that died takes its numbers with it; the replacement is counted and scrapes keep answering', async () => {
    const [port, opsPort, adminPort] = await freePorts(3);
    const { ferry, pids } = await runWorkers(2, ['--config', configFile(metricsConfig(port, opsPort, adminPort))]);
    const servedBy = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      const r = await get(port);
      servedBy.set(r.pid, (servedBy.get(r.pid) ?? 0) + 1);
    }
    expect(servedBy.size).toBe(2);
    const [victim, survivor] = pids as [number, number];
    process.kill(victim, 'SIGKILL');
    const crash = await ferry.waitFor((e) => e.pid === victim && /exited unexpectedly/.test(e.msg ?? ''), 'the crash');
    await ferry.waitFor((e) => e.worker === crash.worker && /replaced/.test(e.msg ?? ''), 'the replacement');

    for (let i = 0; i < 4; i++) {
      const r = await get(opsPort, '/metrics');
      expect(r.status).toBe(200);
      expect(sample(r.body, 'ferry_http_requests_total', OK)).toBe(servedBy.get(survivor));
      expect(sample(r.body, 'ferry_workers')).toBe(2);
      expect(sample(r.body, 'ferry_worker_restarts_total')).toBe(1);
    }
  });

  it('a worker that cannot answer in time fails the scrape with 503 rather than send a partial sum', async () => {
    const [port, opsPort, adminPort] = await freePorts(3);
    const gate = join(mkdtempSync(join(tmpdir(), 'ferry-block-')), 'gate');
    writeFileSync(gate, '');
    defer(() => rmSync(gate, { force: true }));
    const { ferry } = await runWorkers(2, [
      '--plugin',
      BLOCK_PLUGIN,
      '--config',
      configFile(metricsConfig(port, opsPort, adminPort, gate)),
    ]);
    // New connections alternate: one of the first two lands on worker 1, which blocks.
    const blocked = ferry.waitFor((e) => e.msg === 'blocking', 'worker 1 blocking');
    const held: Promise<unknown>[] = [];
    for (let i = 0; i < 2; i++) held.push(get(port, '/block'));
    await blocked;
    // Two scrapes at once: each listener deals its connections round-robin among the workers that
    // have accepted their last one, so one scrape goes to worker 2 — whose primary waits 3 s for
    // worker 1's numbers, then gives up — and one may sit in blocked worker 1.
    const started = Date.now();
    const scrapes = [get(opsPort, '/metrics'), get(opsPort, '/metrics')];
    const first = await Promise.race(scrapes);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(first.status).toBe(503);
    expect(first.body).toMatch(/^metrics unavailable: worker 1 \(pid \d+\) sent no metrics within 3000 ms/);
    rmSync(gate);
    expect((await Promise.all(held)).map((x) => (x as { body: string }).body).sort()).toEqual(['spared', 'unblocked']);
    // The other scrape: a 503 as well if worker 2 took it too, a full answer if worker 1 did.
    const second = await Promise.all(scrapes);
    for (const x of second) expect([200, 503]).toContain(x.status);
    // Back to normal once it answers again.
    expect((await get(opsPort, '/metrics')).status).toBe(200);
  });

  it('the demo status panel shows the whole group: requests and open streams of every worker', async () => {
    const [port, opsPort, adminPort] = await freePorts(3);
    const { pids } = await runWorkers(2, ['--config', configFile(metricsConfig(port, opsPort, adminPort))]);
    const servedBy = new Set<number>();
    for (let i = 0; i < 30; i++) servedBy.add((await get(port)).pid);
    expect(servedBy.size).toBe(2);
    // Two panels: new connections alternate, so one on each worker.
    const panels = [
      new EventSourceClient(`http://127.0.0.1:${opsPort}/status`),
      new EventSourceClient(`http://127.0.0.1:${opsPort}/status`),
    ];
    const heads = await Promise.all(panels.map((p) => p.connect()));
    expect(new Set(heads.map((h) => Number(h.headers['x-pid'])))).toEqual(new Set(pids));
    for (const panel of panels) {
      // Ticks every 100 ms: the first one after both panels opened shows both, and all 30 requests.
      let status: { requests: number; streams: { sse: number } } | undefined;
      do {
        const ev = await panel.next(5000);
        if (ev.type === 'status') status = JSON.parse(ev.data) as typeof status;
      } while (!status || status.streams.sse < 2);
      expect(status).toMatchObject({ requests: 30, streams: { sse: 2 } });
    }
    await Promise.all(panels.map((p) => p.disconnect()));
  });
});
