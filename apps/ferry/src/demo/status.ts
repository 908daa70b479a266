import { defineModule, duration, moduleFactory, z, type Middleware, type MetricsSnapshot } from '@ferry/core';
import { Gauge } from 'prom-client';
import { eventStream } from '@ferry/sse';

type Labels = Record<string, string | number>;

function sum(metrics: MetricsSnapshot, name: string, filter?: (labels: Labels) => boolean): number {
  const values = metrics.find((m) => m.name === name)?.values ?? [];
  return values.filter((v) => !filter || filter(v.labels as Labels)).reduce((n, v) => n + v.value, 0);
}

function byLabel(metrics: MetricsSnapshot, name: string, label: string): Record<string, number> {
  const values = metrics.find((m) => m.name === name)?.values ?? [];
  return Object.fromEntries(values.map((v) => [String((v.labels as Labels)[label]), v.value]));
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
    interval: duration().prefault('1s').describe('How often to send the `clock` and `status` events.'),
  }),
  provision(cfg, ctx): Middleware {
    const every = cfg.interval;
    const registry = ctx.metrics;
    // A gauge, so that under --workers the panel counts its viewers on every worker.
    const watching =
      (registry.getSingleMetric('ferry_status_streams') as Gauge | undefined) ??
      new Gauge({ name: 'ferry_status_streams', help: 'Open ferry_status event streams', registers: [registry] });
    // Under --workers: the whole group's numbers (the primary sums them), this worker's if it cannot.
    const cluster = ctx.service('metrics.cluster');
    const read = async (): Promise<MetricsSnapshot> =>
      cluster ? cluster.json(2000).catch(() => registry.getMetricsAsJSON()) : registry.getMetricsAsJSON();
    let last = { at: Date.now(), total: -1 };
    let rps = 0;
    const snapshot = async () => {
      const metrics = await read();
      const total = sum(metrics, 'ferry_http_requests_total');
      const now = Date.now();
      if (last.total >= 0 && now > last.at) rps = ((total - last.total) * 1000) / (now - last.at);
      if (now - last.at >= every / 2 || last.total < 0) last = { at: now, total };
      return {
        time: new Date(now).toISOString(),
        requests: total,
        rps: Math.round(rps * 10) / 10,
        streams: {
          sse: sum(metrics, 'ferry_sse_subscribers') + sum(metrics, 'ferry_status_streams'),
          websocket: sum(metrics, 'ferry_proxy_streams_open', (l) => l.kind === 'websocket'),
          duplex: sum(metrics, 'ferry_duplex_streams_open'),
        },
        upstreams: byLabel(metrics, 'ferry_proxy_upstream_healthy', 'upstream'),
      };
    };
    return async (req, res) => {
      const stream = eventStream(req, res, { heartbeat: 0, signal: ctx.server.stopping });
      watching.inc();
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
        watching.dec();
      }
    };
  },
});

export const ferryStatus = moduleFactory(statusModule);
