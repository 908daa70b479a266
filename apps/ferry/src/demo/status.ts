import { defineModule, duration, moduleFactory, z, type Middleware } from '@ferry/core';
import { eventStream } from '@ferry/sse';
import type { ProvisionContext } from '@ferry/core';

type MetricsRegistry = ProvisionContext['metrics'];

async function sum(registry: MetricsRegistry, name: string, filter?: (labels: Record<string, string | number>) => boolean): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => !filter || filter(v.labels as Record<string, string | number>)).reduce((n, v) => n + v.value, 0);
}

async function byLabel(registry: MetricsRegistry, name: string, label: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return {};
  const { values } = await metric.get();
  return Object.fromEntries(values.map((v) => [String((v.labels as Record<string, string>)[label]), v.value]));
}

/**
 * `http.handlers.ferry_status`: an event stream of the server's own state, from its metrics —
 * a `clock` event and a `status` event (requests per second, open streams by kind, upstream
 * health) every `interval`. Feeds the embedded default's live panel.
 */
export const statusModule = defineModule({
  id: 'http.handlers.ferry_status',
  description: 'An SSE stream of clock ticks and live server status (req/s, open streams, upstream health).',
  config: z.strictObject({
    interval: duration().optional().meta({ description: 'How often to send the `clock` and `status` events.', default: '1s' }),
  }),
  provision(cfg, ctx): Middleware {
    const every = cfg.interval ?? 1000;
    const registry = ctx.metrics;
    let watching = 0;
    let last = { at: Date.now(), total: -1 };
    let rps = 0;
    const snapshot = async () => {
      const total = await sum(registry, 'ferry_http_requests_total');
      const now = Date.now();
      if (last.total >= 0 && now > last.at) rps = ((total - last.total) * 1000) / (now - last.at);
      if (now - last.at >= every / 2 || last.total < 0) last = { at: now, total };
      return {
        time: new Date(now).toISOString(),
        requests: total,
        rps: Math.round(rps * 10) / 10,
        streams: {
          sse: (await sum(registry, 'ferry_sse_subscribers')) + watching,
          websocket: await sum(registry, 'ferry_proxy_streams_open', (l) => l.kind === 'websocket'),
          duplex: await sum(registry, 'ferry_duplex_streams_open'),
        },
        upstreams: await byLabel(registry, 'ferry_proxy_upstream_healthy', 'upstream'),
      };
    };
    return async (req, res) => {
      const stream = eventStream(req, res, { heartbeat: 0, signal: ctx.server.stopping });
      watching++;
      const tick = async () => {
        const s = await snapshot();
        stream.send({ event: 'clock', data: s.time });
        stream.send({ event: 'status', data: s });
      };
      await tick();
      const timer = setInterval(() => void tick(), every);
      try {
        await stream.closed;
      } finally {
        clearInterval(timer);
        watching--;
      }
    };
  },
});

export const ferryStatus = moduleFactory(statusModule);
