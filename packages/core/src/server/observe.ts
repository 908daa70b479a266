import type { Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '../log.js';
import type { FerryRequest } from '../request.js';
import { isServed, observeRequest, requestMetrics, type RequestMetrics } from '../request_metrics.js';
import type { ResponseWriter } from '../types.js';

/**
 * What one server records of each request it served: the access log line (logger
 * `http.log.access`) and the request metrics (request_metrics.ts holds the series).
 */
export class RequestObserver {
  readonly #server: string;
  readonly #accessLog: Logger | undefined;
  readonly #registry: MetricsRegistry;
  readonly #metricsAsked: boolean;

  constructor(server: string, accessLog: Logger | undefined, registry: MetricsRegistry, metricsAsked: boolean) {
    this.#server = server;
    this.#accessLog = accessLog;
    this.#registry = registry;
    this.#metricsAsked = metricsAsked;
  }

  /**
   * A generation's request metrics, or null when off: decided at its first request, when every
   * server of its config is provisioned (a `metrics` handler on any of them turns them on).
   */
  metricsOf(gen: { metrics: RequestMetrics | null | undefined }): RequestMetrics | null {
    if (gen.metrics === undefined) gen.metrics = this.#metricsAsked || isServed(this.#registry) ? requestMetrics(this.#registry) : null;
    return gen.metrics;
  }

  /**
   * What to run when a response closes: `settle`, after recording the request when anything
   * records it. The common case (no log, no metrics) gets `settle` itself: nothing per request.
   */
  whenDone(req: FerryRequest, res: ResponseWriter, metrics: RequestMetrics | null, settle: () => void): () => void {
    if (!this.#accessLog && !metrics) return settle;
    const start = performance.now();
    void req.remoteAddress; // read the peer while the connection is surely there
    metrics?.inFlight.inc({ server: this.#server });
    return () => {
      this.#record(req, res, start, metrics);
      settle();
    };
  }

  #record(req: FerryRequest, res: ResponseWriter, start: number, metrics: RequestMetrics | null): void {
    const seconds = (performance.now() - start) / 1000;
    const status = res.writableFinished ? res.statusCode : 499;
    if (metrics) observeRequest(metrics, this.#server, req.originalMethod, status, seconds);
    this.#accessLog?.info(
      {
        request: {
          remote_ip: req.remoteAddress,
          remote_port: String(req.remotePort),
          proto: req.protocol,
          // The request as it came, before any rewrite, as Caddy's access log records it.
          method: req.originalMethod,
          host: req.authority,
          uri: req.originalUrl,
          headers: { 'User-Agent': req.headers['user-agent'] },
        },
        duration: seconds,
        status,
        resp_headers: { 'Content-Type': res.getHeader('content-type') },
      },
      'handled request',
    );
  }
}
