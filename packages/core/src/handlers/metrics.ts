import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Middleware } from '../types.js';
import { serveRequestMetrics } from '../request_metrics.js';

/**
 * `http.handlers.metrics`: the metrics in the Prometheus text exposition format. Where the host
 * provides the `metrics.cluster` service (`ferry run --workers N`: summed by the primary) it
 * answers for every process, unless `scope` is `"process"`: then for the process that took the
 * request.
 */
export const metricsModule = defineModule({
  id: 'http.handlers.metrics',
  description: 'Serves the Prometheus text exposition of the metrics registry (under --workers: of all workers, summed).',
  config: z.strictObject({
    scope: z.enum(['all', 'process']).default('all').meta({
      description:
        "Under `ferry run --workers N`: `all` sums every worker (plus the primary's `ferry_workers`, `ferry_worker_restarts_total`), `process` serves the worker that took the request. Without workers the same.",
    }),
  }),
  provision({ scope }, ctx): Middleware {
    const registry = ctx.metrics;
    serveRequestMetrics(registry);
    // The host's sum of every process serving this config (`ferry run --workers N`), if it has one.
    const cluster = scope === 'all' ? ctx.service('metrics.cluster') : undefined;
    return async (_req, res) => {
      let text: string;
      try {
        text = cluster ? await cluster.text() : await registry.metrics();
      } catch (err) {
        // A partial answer would look like counters going back: the scrape fails instead.
        ctx.logger.warn({ err }, 'could not gather the metrics of every worker');
        res.statusCode = 503;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`metrics unavailable: ${(err as Error).message}\n`);
        return;
      }
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    };
  },
});

export const metrics = moduleFactory(metricsModule);
