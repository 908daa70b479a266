import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { EventSourceClient } from '@ferry/test-kit/sse-client';
import { freePorts } from '@ferry/test-kit/ports';
import { configFile, runWorkers, serverConfig } from './helpers.js';

/** `GET /events/:topic` subscribes, `POST /publish/:topic` publishes — no broker configured. */
const sseRoutes = [
  { match: [{ method: ['GET'], path: ['/events/*'] }], handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', heartbeat: '0s' }] },
  { match: [{ method: ['POST'], path: ['/publish/*'] }], handle: [{ handler: 'sse_publish', topic: '{http.request.uri.path.1}' }] },
];

async function publish(port: number, topic: string, data: string): Promise<{ status: number; pid: number; id: string }> {
  const res = await request(`http://127.0.0.1:${port}/publish/${topic}`, { method: 'POST', body: data, reset: true });
  const body = (await res.body.json()) as { id: string };
  return { status: res.statusCode, pid: Number(res.headers['x-pid']), id: body.id };
}

/** Opens subscribers until each worker has at least one (the primary deals connections round-robin). */
async function subscribersOnEvery(url: string, pids: readonly number[]) {
  const subs: { client: EventSourceClient; pid: number }[] = [];
  while (!pids.every((p) => subs.some((s) => s.pid === p))) {
    if (subs.length >= 12) throw new Error(`subscribers landed on ${subs.map((s) => s.pid).join(', ')} only`);
    const client = new EventSourceClient(url);
    const { headers } = await client.connect();
    subs.push({ client, pid: Number(headers['x-pid']) });
  }
  return subs;
}

describe('SSE with --workers and no broker', () => {
  it('a publish on any worker reaches subscribers on every worker, with the same ids; a client resumes on another worker', async () => {
    const [port, adminPort] = await freePorts(2);
    const { pids } = await runWorkers(2, ['--config', configFile(serverConfig(port, adminPort, sseRoutes))]);
    const url = `http://127.0.0.1:${port}/events/news`;
    const subs = await subscribersOnEvery(url, pids);

    const published: { id: string; pid: number; data: string }[] = [];
    for (let i = 1; i <= 20; i++) {
      const r = await publish(port, 'news', `n${i}`);
      expect(r.status).toBe(202);
      published.push({ id: r.id, pid: r.pid, data: `n${i}` });
    }
    // The publishes were served by both workers, and the ids count as one process would.
    expect(new Set(published.map((p) => p.pid)).size).toBe(2);
    expect(published.map((p) => p.id)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    for (const { client } of subs) {
      const got = await client.take(20);
      expect(got.map((e) => [e.lastEventId, e.data])).toEqual(published.map((p) => [p.id, p.data]));
    }

    // Leave, miss three, come back with Last-Event-ID until landing on the other worker.
    const leaver = subs[0]!;
    await leaver.client.disconnect();
    const missed: string[] = [];
    for (let i = 21; i <= 23; i++) {
      await publish(port, 'news', `n${i}`);
      missed.push(`n${i}`);
    }
    let pid = leaver.pid;
    let resumed: EventSourceClient | undefined;
    for (let tries = 0; pid === leaver.pid; tries++) {
      if (tries > 10) throw new Error('never landed on the other worker');
      await resumed?.disconnect();
      resumed = new EventSourceClient(url, { headers: { 'last-event-id': '20' } });
      pid = Number((await resumed.connect()).headers['x-pid']);
      // Wherever it lands, the replay is exactly what it missed.
      expect((await resumed.take(3)).map((e) => e.data)).toEqual(missed);
    }
    expect(pid).not.toBe(leaver.pid);
    await publish(port, 'news', 'n24');
    expect((await resumed!.next()).data).toBe('n24');
    expect(resumed!.pending).toBe(0);
  });
});
