import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defineModule, moduleFactory } from '../module.js';
import type { Middleware } from '../types.js';

/** `http.handlers.error`: throws an error into the error routes, with a status and message (placeholders allowed). */
export const errorModule = defineModule({
  id: 'http.handlers.error',
  description: 'Raises an HTTP error (status_code, error message) handled by the error routes.',
  config: z.strictObject({
    error: z.string().optional().describe('Error message, readable as `{http.error.message}`; placeholders allowed. Unset: no message.'),
    status_code: z
      .union([z.number().int().min(400).max(599), z.string()])
      .default(500)
      .describe(
        'HTTP status of the error, readable as `{http.error.status_code}`: an integer, or a string with placeholders; one that renders to no integer gives 500.',
      ),
  }),
  provision(cfg, ctx): Middleware {
    const message = cfg.error === undefined ? undefined : ctx.template(cfg.error, `${ctx.path}.error`);
    const status = cfg.status_code;
    const template = typeof status === 'string' ? ctx.template(status, `${ctx.path}.status_code`) : undefined;
    return async (req) => {
      const code = template ? Number(template.render(req)) : Number(status);
      throw new HttpError(Number.isInteger(code) ? code : 500, message?.render(req));
    };
  },
});

export const error = moduleFactory(errorModule);
