import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Middleware } from '../types.js';

/** `http.handlers.metrics`: the server's metrics in the Prometheus text exposition format. */
export const metricsModule = defineModule({
  id: 'http.handlers.metrics',
  description: 'Serves the Prometheus text exposition of the metrics registry.',
  config: z.strictObject({}),
  provision(_cfg, ctx): Middleware {
    const registry = ctx.metrics;
    return async (_req, res) => {
      const text = await registry.metrics();
      res.statusCode = 200;
      res.setHeader('content-type', registry.contentType);
      res.end(text);
    };
  },
});

export const metrics = moduleFactory(metricsModule);
