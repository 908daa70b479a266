import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';
import { methodLabel } from './label_limit.js';

/** The server's own per-request series: `ferry_http_requests_total`, its duration histogram, in flight. */
export interface RequestMetrics {
  total: Counter<'server' | 'method' | 'code'>;
  duration: Histogram<'server' | 'method' | 'code'>;
  inFlight: Gauge<'server'>;
}

/** The request metrics on `registry`, made on first use: every server of an app shares them. */
export function requestMetrics(registry: MetricsRegistry): RequestMetrics {
  const existing = registry.getSingleMetric('ferry_http_requests_total') as RequestMetrics['total'] | undefined;
  if (existing) {
    return {
      total: existing,
      duration: registry.getSingleMetric('ferry_http_request_duration_seconds') as RequestMetrics['duration'],
      inFlight: registry.getSingleMetric('ferry_http_requests_in_flight') as RequestMetrics['inFlight'],
    };
  }
  return {
    total: new Counter({
      name: 'ferry_http_requests_total',
      help: 'Requests handled',
      labelNames: ['server', 'method', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'ferry_http_request_duration_seconds',
      help: 'Time to handle a request',
      labelNames: ['server', 'method', 'code'],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'ferry_http_requests_in_flight',
      help: 'Requests being handled',
      labelNames: ['server'],
      registers: [registry],
    }),
  };
}

/** Registries something serves (a `metrics` handler): their servers count requests. */
const served = new WeakSet<MetricsRegistry>();

/**
 * Called by whatever exposes `registry` (the `metrics` handler): from the first scrape it holds
 * Node's process metrics (prom-client's default collectors, as Caddy serves Go's) and the
 * servers' request metrics, which every server using the registry then records.
 */
export function serveRequestMetrics(registry: MetricsRegistry): void {
  if (served.has(registry)) return;
  served.add(registry);
  collectDefaultMetrics({ register: registry });
  requestMetrics(registry);
}

/** Whether servers on `registry` record request metrics without being asked (`requestMetrics`). */
export function isServed(registry: MetricsRegistry): boolean {
  return served.has(registry);
}

/** Records one finished request. The method is bounded (`OTHER` for tokens outside RFC 9110). */
export function observeRequest(m: RequestMetrics, server: string, method: string, status: number, seconds: number): void {
  const labels = { server, method: methodLabel(method), code: String(status) };
  m.total.inc(labels);
  m.duration.observe(labels, seconds);
  m.inFlight.dec({ server });
}
