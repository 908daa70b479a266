import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { createServer, type FerryServer } from '@ferry/core';
import { EventStream, type ChannelEvent, type Hub } from '@ferry/sse';
import { Ferry } from '@ferry/test-kit/ferry';
import { defer } from '@ferry/test-kit/lifecycle';
import { RedisProcess } from '@ferry/test-kit/redis';

export { defer };
export { EventSourceClient, type ReceivedEvent } from '@ferry/test-kit/sse-client';

/** A real redis-server for one test, stopped after it. */
export async function redisServer(port?: number): Promise<RedisProcess> {
  const redis = await RedisProcess.start(port);
  defer(() => redis.stop());
  return redis;
}

/** A plain client on `url` (for inspecting streams and cutting connections), closed after the test. */
export function redisClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  defer(() => client.disconnect());
  return client;
}

/** Serves `GET /:topic[?type=T]` as an event stream of `hub`'s topic, honouring Last-Event-ID. */
export async function hubServer(hub: Hub): Promise<{ server: FerryServer; url: string }> {
  const server = createServer({
    listen: '127.0.0.1:0',
    logger: false,
    handler: async (req, res) => {
      const channel = hub.topic(req.path.slice(1));
      await channel.whenLive();
      const stream = new EventStream(req, res, { heartbeat: 0 });
      const type = req.query.get('type');
      channel.subscribe(stream, {
        lastEventId: stream.lastEventId,
        ...(type ? { filter: (ev: ChannelEvent) => ev.event === type } : {}),
      });
      await stream.closed;
    },
  });
  await server.listen();
  defer(() => server.close({ gracePeriod: 0 }));
  return { server, url: server.url };
}

/** What Ferry's `sse` and `sse_publish` handlers share, on `/events/:topic` and `POST /publish/:topic`. */
export function sseConfig(redisUrl: string, options: { history?: number; port?: number } = {}) {
  const broker = { redis: { url: redisUrl } };
  return {
    admin: { disabled: true },
    apps: {
      http: {
        servers: {
          srv0: {
            listen: [`127.0.0.1:${options.port ?? 0}`],
            routes: [
              {
                match: [{ method: ['GET'], path: ['/events/*'] }],
                handle: [{ handler: 'sse', topic: '{http.request.uri.path.1}', broker, heartbeat: '0s', ...(options.history !== undefined ? { history: options.history } : {}) }],
              },
              {
                match: [{ method: ['POST'], path: ['/publish/*'] }],
                handle: [{ handler: 'sse_publish', topic: '{http.request.uri.path.1}', broker }],
              },
            ],
          },
        },
      },
    },
  };
}

export interface FerryProcess {
  ferry: Ferry;
  url: string;
}

/** Runs `ferry run --config` on `config` as a child process; resolves once it listens. */
export async function ferryProcess(config: unknown): Promise<FerryProcess> {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-redis-')), 'ferry.json');
  writeFileSync(file, JSON.stringify(config));
  const ferry = new Ferry(['run', '--config', file]);
  const listening = await ferry.waitFor((e) => e.msg === 'listening' && typeof e.port === 'number', 'it listened');
  return { ferry, url: `http://127.0.0.1:${listening.port as number}` };
}

/** `POST /publish/:topic` with a JSON event; resolves with the answer. */
export async function publish(base: string, topic: string, ev: { event?: string; data?: unknown; id?: string }): Promise<{ status: number; body: { id?: string; stored?: boolean; error?: string } }> {
  const res = await request(`${base}/publish/${topic}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ev) });
  const text = await res.body.text();
  let body: { id?: string; stored?: boolean } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { error: text } as typeof body;
  }
  return { status: res.statusCode, body };
}

/** Resolves once `test()` holds (checked every 10 ms); fails after `ms` saying `what` did not happen. */
export async function until(test: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
