import type { ProvisionContext } from '@ferry/core';
import { Gauge } from 'prom-client';

type MetricsRegistry = ProvisionContext['metrics'];

/** Reports `[dial, healthy]` for the upstreams one reverse_proxy handler knows. */
export type HealthSource = () => Iterable<readonly [string, boolean]>;

export interface ProxyMetrics {
  /** `ferry_proxy_streams_open{kind}`: proxied upgrades (WebSockets and others) in progress. */
  streams: Gauge<'kind'>;
  /** Adds a handler's upstreams to `ferry_proxy_upstream_healthy`; returns the removal. */
  watchHealth(source: HealthSource): () => void;
}

const sourcesByRegistry = new WeakMap<MetricsRegistry, Set<HealthSource>>();

/** The proxy's metrics in an app's registry, shared by every reverse_proxy handler of the app. */
export function proxyMetrics(registry: MetricsRegistry): ProxyMetrics {
  let sources = sourcesByRegistry.get(registry);
  if (!sources) sourcesByRegistry.set(registry, (sources = new Set()));
  const all = sources;
  const streams =
    (registry.getSingleMetric('ferry_proxy_streams_open') as Gauge<'kind'> | undefined) ??
    new Gauge({
      name: 'ferry_proxy_streams_open',
      help: 'Proxied upgraded streams in progress, by kind',
      labelNames: ['kind'],
      registers: [registry],
    });
  if (!registry.getSingleMetric('ferry_proxy_upstream_healthy')) {
    // Read at scrape time: health changes inside the checkers need no bookkeeping here.
    new Gauge({
      name: 'ferry_proxy_upstream_healthy',
      help: 'Whether an upstream is available (1) or out by health checks (0)',
      labelNames: ['upstream'],
      registers: [registry],
      // Health is per worker (under --workers): the scrape of all workers takes the lowest,
      // so it reads 1 only when every worker has the upstream in.
      aggregator: 'min',
      collect() {
        this.reset();
        for (const source of all) for (const [dial, healthy] of source()) this.set({ upstream: dial }, healthy ? 1 : 0);
      },
    });
  }
  return {
    streams,
    watchHealth(source) {
      all.add(source);
      return () => all.delete(source);
    },
  };
}
