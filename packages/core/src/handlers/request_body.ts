import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Middleware } from '../types.js';

const config = z.strictObject({
  max_size: z
    .number({ error: 'expected a byte count: an integer, as in Caddy JSON (the Caddyfile\'s "10MB" is 10000000 here, "10MiB" 10485760)' })
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe(
      'The most bytes of request body the handlers after this one may read; past it they get 413. A Content-Length past it is refused at once, a body that arrives longer (chunked, h2) as soon as it passes it. Unset or 0: no limit.',
    ),
});

/**
 * `http.handlers.request_body` (Caddy's): caps the request body for the handlers after it, their
 * stream reads (`req.body`, `reverse_proxy`'s upload) and body readers (`req.json()`, …) alike.
 */
export const requestBodyModule = defineModule({
  id: 'http.handlers.request_body',
  description: 'Limits the size of the request body the handlers after it read (max_size): past it, 413.',
  config,
  provision(cfg): Middleware {
    const max = cfg.max_size;
    if (!max) return (req, res, next) => next(req, res);
    return (req, res, next) => {
      try {
        req.limitBody(max);
      } catch (err) {
        return Promise.reject(err);
      }
      return next(req, res);
    };
  },
});

export const requestBody = moduleFactory(requestBodyModule);
