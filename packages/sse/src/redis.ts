import { randomBytes } from 'node:crypto';
import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { BrokerUnavailableError, type Broker, type BrokerLogger, type BrokerReplay, type Following, type TopicListener } from './broker.js';
import type { ChannelEvent } from './channel.js';
import type { SseEvent } from './format.js';

export interface RedisBrokerOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** Prefix of the stream keys and pub/sub channels, one per topic. Default `ferry:sse:`. */
  keyPrefix?: string;
  /**
   * A topic's stream is deleted this many milliseconds after its last publish (PEXPIRE at each
   * publish). Unset: streams stay until deleted.
   */
  expireAfterMs?: number;
  /** Where connection losses and recoveries are logged. */
  logger?: BrokerLogger;
}

/**
 * Stores the event in the topic's stream, trimmed to ARGV[1] entries, with the id of the entry
 * before it (`p`), then announces it on the topic's channel — all in one step, so the channel's
 * order is the stream's order. `p` lets a replay tell "nothing after your id was trimmed" from
 * "some was": XADD's trimming does not record what it removed. ARGV[3], when not 0, is the
 * stream's time to live after this publish, in milliseconds.
 */
const PUBLISH_SCRIPT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local prev = '0-0'
if last[1] then prev = last[1][1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'p', prev, 'e', ARGV[2])
if ARGV[3] ~= '0' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
redis.call('PUBLISH', KEYS[1], id .. ' ' .. ARGV[2])
return id
`;

type PublishCommand = (key: string, maxlen: number, event: string) => Promise<string>;

interface Topic {
  readonly key: string;
  readonly listener: TopicListener;
  /** The last id handed to the listener; undefined until the topic's position is known. */
  lastId: string | undefined;
  /** While catching up, live messages wait here (they may be newer than what the catch-up reads). */
  buffer: ReturnType<typeof entryEvent>[] | undefined;
  live: Promise<void>;
  markLive: () => void;
}

/**
 * An entry's event, and the publish token (`n`) its publisher put in it: it tells an instance
 * that an entry is the copy of its own publish.
 */
function entryEvent(id: string, json: string): { ev: ChannelEvent; token: string | undefined } {
  const { n, ...ev } = JSON.parse(json) as SseEvent & { n?: string };
  return { ev: { ...ev, id }, token: typeof n === 'string' ? n : undefined };
}

/** How long, and how many, publishes of unknown outcome are remembered (see RedisBroker.publish). */
const UNCERTAIN_MS = 10 * 60_000;
const UNCERTAIN_MAX = 10_000;

/** Reconnects after 100 ms, doubling up to 2 s, with jitter so instances do not retry in step. */
function backoff(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 5), 2000) + Math.floor(Math.random() * 100);
}

/**
 * A Broker on Redis: each topic is a stream (`XADD … MAXLEN`) holding its history, and a pub/sub
 * channel of the same name announcing new entries. An instance follows its subscribed topics on
 * one subscriber connection; after a disconnect it reads what it missed from the streams
 * (`XRANGE` from the last id it handed on), so an outage of the connection loses nothing Redis
 * kept. Both connections reconnect on their own with backoff.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis';
  readonly keepsIds = false;
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #publish: PublishCommand;
  readonly #prefix: string;
  readonly #topics = new Map<string, Topic>();
  readonly #logger: BrokerLogger | undefined;
  #everReady = false;
  #closed = false;
  #down = false;
  /** Bumped at each subscriber-connection ready: a catch-up of an older connection stops. */
  #epoch = 0;
  /** This instance's publish tokens: `<instance>.<n>`. */
  readonly #instance = randomBytes(6).toString('base64url');
  #tokens = 0;
  /** Own publishes in flight, by token: the id, once their copy came back on pub/sub. */
  readonly #pending = new Map<string, { id?: string }>();
  /** Own publishes whose answer was lost with the connection (delivered locally): token → until. */
  readonly #uncertain = new Map<string, number>();

  constructor(options: RedisBrokerOptions) {
    this.#prefix = options.keyPrefix ?? 'ferry:sse:';
    this.#logger = options.logger;
    const common: RedisOptions = {
      retryStrategy: backoff,
      // A command sent while the connection is down fails at once (the hub then delivers locally)
      // instead of waiting; one cut off mid-flight is not sent again (it may have been applied).
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
    };
    this.#cmd = new Redis(options.url, { ...common, connectionName: 'ferry-sse' });
    this.#sub = new Redis(options.url, { ...common, autoResubscribe: false, connectionName: 'ferry-sse-sub' });
    // EVALSHA, falling back to EVAL when Redis does not have the script (as after a restart).
    this.#cmd.defineCommand('ferrySsePublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT });
    const cmd = this.#cmd as unknown as { ferrySsePublish: (key: string, maxlen: string, event: string, ttl: string) => Promise<string> };
    const ttl = String(Math.max(0, Math.round(options.expireAfterMs ?? 0)));
    this.#publish = (key, maxlen, event) => cmd.ferrySsePublish(key, String(maxlen), event, ttl);
    for (const conn of [this.#cmd, this.#sub]) {
      // ioredis reports every failed attempt; the outage is logged once, when it starts.
      conn.on('error', () => {});
      conn.on('close', () => this.#lost());
    }
    this.#cmd.on('ready', () => {
      this.#everReady = true;
      this.#recovered();
      // A catch-up that found the command connection away is waiting for it.
      if (this.#sub.status === 'ready' && [...this.#topics.values()].some((t) => t.buffer)) void this.#resubscribe();
    });
    this.#sub.on('ready', () => void this.#resubscribe());
    this.#sub.on('message', (channel: string, message: string) => this.#message(channel, message));
  }

  get available(): boolean {
    return this.#cmd.status === 'ready';
  }

  #lost(): void {
    if (this.#closed || this.#down) return;
    this.#down = true;
    this.#logger?.warn('sse broker: lost the Redis connection; reconnecting (meanwhile events reach only this instance)');
  }

  #recovered(): void {
    if (!this.#down || this.#cmd.status !== 'ready' || this.#sub.status !== 'ready') return;
    this.#down = false;
    this.#logger?.info('sse broker: Redis connection back');
  }

  async #ready(conn: Redis, waitMs: number): Promise<boolean> {
    if (conn.status === 'ready') return true;
    if (waitMs <= 0 || this.#closed) return false;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        conn.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), waitMs);
      timer.unref();
      conn.on('ready', onReady);
    });
  }

  /**
   * Stores and announces the event; its id. A connection lost with the command in flight leaves
   * its outcome unknown — Redis may have applied it. If its copy already came back on pub/sub,
   * it was: that id is the answer. Otherwise the hub delivers it locally (BrokerUnavailableError),
   * and should the entry show up later (the catch-up after reconnecting), it is not handed on
   * again on this instance: its subscribers have it.
   */
  async publish(topic: string, ev: SseEvent, history: number): Promise<string> {
    // Right after start the connection is still being made: wait a little for it, not later.
    if (!(await this.#ready(this.#cmd, this.#everReady ? 0 : 1000))) throw new BrokerUnavailableError('Redis is not connected');
    const token = `${this.#instance}.${++this.#tokens}`;
    const json = JSON.stringify({ event: ev.event, data: ev.data, retry: ev.retry, n: token });
    const pending: { id?: string } = {};
    this.#pending.set(token, pending);
    try {
      return await this.#publish(this.#prefix + topic, Math.max(1, history), json);
    } catch (err) {
      if (err instanceof ReplyError) throw err;
      if (pending.id !== undefined) return pending.id;
      this.#remember(token);
      throw unavailable(err);
    } finally {
      this.#pending.delete(token);
    }
  }

  #remember(token: string): void {
    const now = Date.now();
    for (const [t, until] of this.#uncertain) {
      if (until > now && this.#uncertain.size < UNCERTAIN_MAX) break;
      this.#uncertain.delete(t);
    }
    this.#uncertain.set(token, now + UNCERTAIN_MS);
  }

  follow(topic: string, listener: TopicListener): Following {
    if (this.#topics.has(topic)) throw new Error(`topic "${topic}" is followed already`);
    let markLive!: () => void;
    const live = new Promise<void>((resolve) => (markLive = resolve));
    const t: Topic = { key: this.#prefix + topic, listener, lastId: undefined, buffer: [], live, markLive };
    this.#topics.set(topic, t);
    void this.#start(t);
    return {
      live,
      stop: () => {
        if (this.#topics.get(topic) !== t) return;
        this.#topics.delete(topic);
        t.markLive();
        if (this.#sub.status === 'ready') this.#sub.unsubscribe(t.key).catch(() => {});
      },
    };
  }

  /** A new topic: its position is its newest entry now; subscribe, then read anything stored since. */
  async #start(t: Topic): Promise<void> {
    try {
      // Right after start the connection is still being made: a topic's position is taken once it is up.
      if (!(await this.#ready(this.#cmd, this.#everReady ? 0 : 1000))) throw new BrokerUnavailableError('Redis is not connected');
      const epoch = this.#epoch;
      const newest = (await this.#cmd.xrevrange(t.key, '+', '-', 'COUNT', 1)) as [string, string[]][];
      t.lastId ??= newest[0]?.[0] ?? '0-0';
      if (this.#sub.status !== 'ready' || epoch !== this.#epoch) return;
      await this.#sub.subscribe(t.key);
      if (epoch !== this.#epoch) return; // reconnected meanwhile: #resubscribe catches this topic up
      await this.#catchUp(t, epoch);
    } catch {
      // Redis is away: the topic is caught up when the subscriber connection is back.
      t.buffer = [];
    } finally {
      t.markLive();
    }
  }

  /** The subscriber connection is (back) up: subscribe every followed topic, then catch each up. */
  async #resubscribe(): Promise<void> {
    const epoch = ++this.#epoch;
    this.#recovered();
    const topics = [...this.#topics.values()];
    for (const t of topics) t.buffer ??= [];
    try {
      if (topics.length) await this.#sub.subscribe(...topics.map((t) => t.key));
      if (!(await this.#ready(this.#cmd, 5000))) return;
      for (const t of topics) {
        if (epoch !== this.#epoch) return;
        if (this.#topics.get(this.#topicName(t.key)) !== t) continue;
        if (t.lastId === undefined) {
          const newest = (await this.#cmd.xrevrange(t.key, '+', '-', 'COUNT', 1)) as [string, string[]][];
          t.lastId = newest[0]?.[0] ?? '0-0';
        }
        await this.#catchUp(t, epoch);
        t.markLive();
      }
    } catch {
      // Lost again: the next ready starts over.
    }
  }

  #topicName(key: string): string {
    return key.slice(this.#prefix.length);
  }

  /** Hands on what the stream holds after the topic's last id, then what arrived live meanwhile. */
  async #catchUp(t: Topic, epoch: number): Promise<void> {
    const from = t.lastId!;
    const entries = (await this.#cmd.xrange(t.key, `(${from}`, '+')) as [string, string[]][];
    if (epoch !== this.#epoch) return;
    const first = entries[0];
    if (first && fieldOf(first[1], 'p') !== from && from !== '0-0') t.listener.gap();
    for (const [id, fields] of entries) this.#hand(t, entryEvent(id, fieldOf(fields, 'e') ?? '{}'));
    const waiting = t.buffer ?? [];
    t.buffer = undefined;
    for (const ev of waiting) this.#hand(t, ev);
  }

  #hand(t: Topic, { ev, token }: { ev: ChannelEvent; token: string | undefined }): void {
    if (t.lastId !== undefined && (compareIds(ev.id, t.lastId) ?? 1) <= 0) return; // seen already
    t.lastId = ev.id;
    if (token !== undefined) {
      const pending = this.#pending.get(token);
      if (pending) pending.id = ev.id;
      // This instance's publish whose answer was lost: delivered here already, under a local id.
      else if (this.#uncertain.delete(token)) return;
    }
    t.listener.event(ev);
  }

  #message(channel: string, message: string): void {
    const t = this.#topics.get(this.#topicName(channel));
    if (!t) return;
    const space = message.indexOf(' ');
    let ev: ReturnType<typeof entryEvent>;
    try {
      ev = entryEvent(message.slice(0, space), message.slice(space + 1));
    } catch {
      return; // not ours
    }
    if (t.buffer) t.buffer.push(ev);
    else this.#hand(t, ev);
  }

  async since(topic: string, lastEventId: string): Promise<BrokerReplay> {
    if (this.#cmd.status !== 'ready') throw new BrokerUnavailableError('Redis is not connected');
    const key = this.#prefix + topic;
    const m = /^(\d+)-(L?)(\d+)$/.exec(lastEventId);
    // An id this instance gave while Redis was away (`<ms>-L<n>`) was never stored: replay what
    // Redis holds from after that millisecond, and say events may be missing.
    const start = !m ? '-' : m[2] ? `(${m[1]}-18446744073709551615` : `(${lastEventId}`;
    let entries: [string, string[]][];
    try {
      entries = (await this.#cmd.xrange(key, start, '+')) as [string, string[]][];
    } catch (err) {
      throw unavailable(err);
    }
    const events = entries.map(([id, fields]) => entryEvent(id, fieldOf(fields, 'e') ?? '{}').ev);
    const first = entries[0];
    const gap = m?.[2] !== '' ? true : first !== undefined && fieldOf(first[1], 'p') !== lastEventId;
    return { events, gap };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#topics.values()) t.markLive();
    this.#topics.clear();
    await Promise.all([this.#cmd, this.#sub].map((c) => c.quit().catch(() => c.disconnect())));
  }
}

const STREAM_ID = /^(\d+)-(\d+)$/;

/** Orders two stream ids (`<ms>-<seq>`); undefined when either is not one. */
function compareIds(a: string, b: string): number | undefined {
  const x = STREAM_ID.exec(a);
  const y = STREAM_ID.exec(b);
  if (!x || !y) return undefined;
  const ms = BigInt(x[1]!) - BigInt(y[1]!);
  const d = ms !== 0n ? ms : BigInt(x[2]!) - BigInt(y[2]!);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

/** An error Redis answered is a real error; any other (connection closed, not writable) means Redis is away. */
function unavailable(err: unknown): Error {
  if (err instanceof ReplyError) return err as Error;
  return new BrokerUnavailableError(`Redis connection lost: ${(err as Error).message}`);
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
