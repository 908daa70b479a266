import {
  defineModule,
  duration,
  HttpError,
  moduleFactory,
  z,
  type FerryRequest,
  type Middleware,
  type ProvisionContext,
  type ResponseWriter,
} from '@ferry/core';
import type { Channel } from './channel.js';
import type { Broker } from './broker.js';
import type { SseEvent } from './format.js';
import { ClientLimits } from './client_limits.js';
import { DEFAULT_HISTORY, DEFAULT_HISTORY_BYTES, DEFAULT_MAX_HISTORY_BYTES } from './history.js';
import { Hub } from './hub.js';
import { DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_QUEUED_EVENTS, EventStream } from './stream.js';

const brokerConfig = z
  .strictObject({
    redis: z
      .strictObject({
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
          .describe('The Redis server: `redis://[user:password@]host:port[/db]`, `rediss://` for TLS.'),
        key_prefix: z
          .string()
          .optional()
          .meta({ description: 'Prefix of the stream key and pub/sub channel of each topic.', default: 'ferry:sse:' }),
        expire_after: duration()
          .optional()
          .describe(
            "Delete a topic's stream (its history) this long after its last publish (PEXPIRE at each publish). Unset: kept until deleted — set it when topic names come from request data.",
          ),
      })
      .describe(
        'Shares topics through Redis: history in a stream per topic (XADD with MAXLEN `history`), new events announced by pub/sub.',
      ),
  })
  .optional()
  .describe(
    'Where topics live. Unset: in this process. `{"redis": {"url": …}}`: shared by every Ferry instance on that Redis, so a publish anywhere reaches subscribers everywhere and a client may resume on another instance. Handlers with the same broker share topics.',
  );

type BrokerConfig = z.infer<typeof brokerConfig>;

declare module '@ferry/core' {
  interface FerryServices {
    /**
     * Makes the broker of a hub whose config names none: how the host shares topics between its
     * processes (`ferry run --workers N`: a RelayBroker to its primary). Unset: such topics live
     * in this process.
     */
    'sse.broker': () => Broker;
  }
}

/**
 * The hub every `sse` and `sse_publish` handler of one app with the same broker shares. It
 * outlives config reloads (`ctx.keep`): topics, history and ids carry on, so a subscriber whose
 * stream a reload ended resumes with its Last-Event-ID and misses nothing. It closes once no
 * config uses it.
 */
function appHub(ctx: ProvisionContext, broker: BrokerConfig): Hub {
  const key = broker ? `ferry.sse.hub:${JSON.stringify(broker)}` : 'ferry.sse.hub';
  return ctx.keep(
    key,
    () => {
      // Topics without a broker of their own are shared the host's way, if it has one.
      const shared = broker ?? ctx.service('sse.broker')?.();
      return new Hub({ metrics: ctx.metrics, ...(shared ? { broker: shared, logger: ctx.logger } : {}) });
    },
    (hub) => hub.close(),
  );
}

const subscribeConfig = z.strictObject({
  topic: z.string().min(1).describe('Topic to subscribe to; placeholders allowed (`"chat/{http.request.uri.query.room}"`).'),
  heartbeat: duration().prefault('15s').describe('Interval of comment heartbeats on an idle stream; 0 turns them off.'),
  history: z
    .number()
    .int()
    .min(0)
    .default(DEFAULT_HISTORY)
    .meta({ description: 'Events kept per topic for Last-Event-ID replay (the hub keeps the largest any `sse` handler asks for).' }),
  history_bytes: z.number().int().min(0).default(DEFAULT_HISTORY_BYTES).meta({
    description:
      'Bytes of events (as sent) kept per topic for replay, besides `history`; the oldest go first, and a client resuming from before them gets a `ferry.history-gap` event. 2 MiB holds the largest event `sse_publish` takes by default beside others (the hub keeps the largest any `sse` handler asks for).',
  }),
  hub_history_bytes: z.number().int().min(0).default(DEFAULT_MAX_HISTORY_BYTES).meta({
    description:
      'Bytes of events kept for replay over all topics of the hub (64 MiB): past it, the topic published to least recently loses its oldest events first (the hub keeps the largest any `sse` handler asks for).',
  }),
  retry: duration().optional().describe('Reconnect delay hint sent to the client first (the `retry:` field, in ms). Unset: none sent.'),
  max_queued_events: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_QUEUED_EVENTS)
    .describe('Events held for a slow subscriber before `slow_client` applies.'),
  max_queued_bytes: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_QUEUED_BYTES)
    .describe('Bytes held for a slow subscriber before `slow_client` applies (1 MiB).'),
  slow_client: z
    .enum(['drop_oldest', 'disconnect'])
    .default('drop_oldest')
    .describe("When a subscriber's queue is full: `drop_oldest` drops its oldest queued event, `disconnect` ends its stream."),
  max_subscriptions_per_connection: z.number().int().min(1).default(100).meta({
    description:
      "Event streams one connection may hold open at once (counted over all `sse` handlers of the app); one more gets 429. A browser puts every tab of an origin on one h2 connection, one stream per EventSource: 100 leaves room for dozens of tabs, and for ordinary requests beside them under h2's concurrent-stream limit. An HTTP/1.1 connection carries one stream at a time.",
  }),
  max_subscriptions_per_address: z.number().int().min(1).default(1000).meta({
    description:
      "Event streams one client address (an IPv6 client: its /64) may hold open at once, over all its connections; one more gets 429. Many browsers can share an address behind NAT or an office proxy: 1,000 serves hundreds of them, and takes one address only a tenth of the way to the hub's 10,000 topics.",
  }),
  broker: brokerConfig,
});

/** Open streams per connection and per address, for every `sse` handler of the app; kept across reloads like the hub. */
function appClientLimits(ctx: ProvisionContext): ClientLimits {
  return ctx.keep('ferry.sse.clients', () => new ClientLimits());
}

/** `http.handlers.sse`: subscribes the client to a topic of the app's hub, with replay from Last-Event-ID. */
export const sseModule = defineModule({
  id: 'http.handlers.sse',
  description: 'Subscribes the client to a hub topic as an event stream (heartbeat, history replay).',
  config: subscribeConfig,
  provision(cfg, ctx): Middleware {
    const hub = appHub(ctx, cfg.broker);
    const clients = appClientLimits(ctx);
    const limits = { perConnection: cfg.max_subscriptions_per_connection, perAddress: cfg.max_subscriptions_per_address };
    const topic = ctx.template(cfg.topic, `${ctx.path}.topic`);
    // Declared at provision time, so a topic made by a publish before any subscriber keeps it too.
    hub.requireHistory({ events: cfg.history, bytes: cfg.history_bytes, totalBytes: cfg.hub_history_bytes });
    const options = {
      heartbeat: cfg.heartbeat,
      ...(cfg.retry !== undefined ? { retry: Math.round(cfg.retry) } : {}),
      maxQueuedEvents: cfg.max_queued_events,
      maxQueuedBytes: cfg.max_queued_bytes,
      slowClient: cfg.slow_client === 'disconnect' ? ('disconnect' as const) : ('drop-oldest' as const),
      signal: ctx.server.stopping,
    };
    /** Opens the stream on `channel`; the client's place (`release`) is given back when it ends. */
    const open = (req: FerryRequest, res: ResponseWriter, channel: Channel, release: () => void): Promise<void> => {
      try {
        const stream = new EventStream(req, res, options);
        channel.subscribe(stream, { lastEventId: stream.lastEventId });
        stream.onClose(release);
        // The request lasts as long as the stream (what it resolves with is not read).
        return stream.closed as Promise<unknown> as Promise<void>;
      } catch (err) {
        release();
        throw err;
      }
    };
    // Not an async function: an await held for the life of each stream would cost every
    // subscriber a suspended frame and its promise besides the stream's own `closed`.
    return (req, res) => {
      let release: (() => void) | undefined;
      try {
        // Counted before the topic is made: a refused client makes no topic.
        release = clients.admit(req, limits);
        const channel = hub.topic(topic.render(req));
        if (!hub.broker) return open(req, res, channel, release);
        // With a broker, the head goes out once the topic is followed: what is published after the
        // client has its response reaches it.
        const given = release;
        return channel.whenLive().then(
          () => open(req, res, channel, given),
          (err: unknown) => {
            given();
            throw err;
          },
        );
      } catch (err) {
        release?.();
        return Promise.reject(err);
      }
    };
  },
});

const publishConfig = z.strictObject({
  topic: z.string().min(1).describe('Topic to publish to; placeholders allowed.'),
  max_body_bytes: z
    .number()
    .int()
    .min(1)
    .default(1024 * 1024)
    .describe('Largest request body accepted, in bytes (1 MiB); a larger one gets 413.'),
  broker: brokerConfig,
});

async function readBody(req: { body: AsyncIterable<Buffer> }, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `event body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const jsonEvent = z.strictObject({ event: z.string().optional(), data: z.unknown().optional(), id: z.string().optional() });

/**
 * `http.handlers.sse_publish`: publishes the request body to a topic and answers 202 with the
 * event's id. `Content-Type: application/json` bodies carry `{"event", "data", "id"}`; any other
 * body is the event's data.
 */
export const ssePublishModule = defineModule({
  id: 'http.handlers.sse_publish',
  description: 'Publishes the request body (or JSON {event, data, id}) to a hub topic; answers 202.',
  config: publishConfig,
  provision(cfg, ctx): Middleware {
    const hub = appHub(ctx, cfg.broker);
    const topic = ctx.template(cfg.topic, `${ctx.path}.topic`);
    const limit = cfg.max_body_bytes;
    return async (req, res) => {
      const body = await readBody(req, limit);
      let ev: SseEvent;
      const type = req.headers['content-type'] ?? '';
      if (/^application\/json\b/i.test(type)) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          throw new HttpError(400, 'body is not valid JSON');
        }
        const checked = jsonEvent.safeParse(parsed);
        if (!checked.success) throw new HttpError(400, 'expected a JSON object with optional "event" (string), "data" and "id" (string)');
        ev = checked.data;
      } else {
        ev = { data: body.toString('utf8') };
      }
      if ((ev.event && /[\r\n]/.test(ev.event)) || (ev.id && /[\r\n\0]/.test(ev.id))) {
        throw new HttpError(400, 'event and id must not contain line breaks');
      }
      if (ev.id !== undefined && hub.broker && !hub.broker.keepsIds)
        throw new HttpError(400, `event ids are given by the ${hub.broker.kind} broker; publish without "id"`);
      const published = await hub.publish(topic.render(req), ev);
      res.statusCode = 202;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: published.id, stored: published.stored }));
    };
  },
});

/** `sse({ topic: 'news', heartbeat: '15s', history: 100 })` — the code front door of `http.handlers.sse`. */
export const sse = moduleFactory(sseModule);
/** `ssePublish({ topic: 'news' })` — the code front door of `http.handlers.sse_publish`. */
export const ssePublish = moduleFactory(ssePublishModule);
