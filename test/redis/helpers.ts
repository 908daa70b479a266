import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { createServer, type FerryServer } from '@ferry/core';
import { EventStream, type ChannelEvent, type Hub } from '@ferry/sse';
import { Ferry } from '@ferry/test-kit/ferry';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
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
export function sseConfig(redisUrl: string, options: { history?: number; port?: number; expireAfter?: string } = {}) {
  const broker = { redis: { url: redisUrl, ...(options.expireAfter !== undefined ? { expire_after: options.expireAfter } : {}) } };
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
                handle: [
                  {
                    handler: 'sse',
                    topic: '{http.request.uri.path.1}',
                    broker,
                    heartbeat: '0s',
                    ...(options.history !== undefined ? { history: options.history } : {}),
                  },
                ],
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
export async function publish(
  base: string,
  topic: string,
  ev: { event?: string; data?: unknown; id?: string },
): Promise<{ status: number; body: { id?: string; stored?: boolean; error?: string } }> {
  const res = await request(`${base}/publish/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ev),
  });
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

interface Relayed {
  client: Socket;
  upstream: Socket;
}

interface Armed {
  marker: string;
  holdOthers: boolean;
  conn?: Relayed;
  replied: ReturnType<typeof deferred<void>>;
}

/**
 * A TCP relay to Redis that can lose an answer, as a connection dropped at the wrong moment does:
 * `arm(marker)` lets the next command containing `marker` reach Redis, keeps Redis's reply from the
 * client (`replied` resolves when it came), and `cut()` then closes that connection. With
 * `holdOthers`, everything Redis sends on the other connections after arming is kept from the
 * client too (the pub/sub copy of the event), and `cut()` closes them as well.
 */
export class LossyRelay {
  readonly #server: Server;
  readonly #conns = new Set<Relayed>();
  #armed: Armed | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** A relay on a free loopback port to Redis on `port`; closed after the test. */
  static async start(port: number): Promise<LossyRelay> {
    const relay: LossyRelay = new LossyRelay(createNetServer((client) => relay.#relay(client, port)));
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    defer(() => relay.close());
    return relay;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #relay(client: Socket, port: number): void {
    const upstream = connect(port, '127.0.0.1');
    const c: Relayed = { client, upstream };
    this.#conns.add(c);
    const end = () => {
      this.#conns.delete(c);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) s.on('error', end).on('close', end);
    client.on('data', (d: Buffer) => {
      const a = this.#armed;
      if (a && !a.conn && d.includes(a.marker)) a.conn = c;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      const a = this.#armed;
      if (a?.conn === c) return a.replied.resolve();
      if (a?.holdOthers) return;
      client.write(d);
    });
  }

  arm(marker: string, options: { holdOthers?: boolean } = {}): { replied: Promise<void>; cut: () => void } {
    const armed: Armed = { marker, holdOthers: options.holdOthers ?? false, replied: deferred<void>() };
    this.#armed = armed;
    const others = [...this.#conns];
    return {
      replied: armed.replied.promise,
      cut: () => {
        this.#armed = undefined;
        const cut = armed.holdOthers ? others : [armed.conn];
        for (const c of cut) c?.client.destroy();
      },
    };
  }

  close(): Promise<void> {
    for (const c of this.#conns) c.client.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
