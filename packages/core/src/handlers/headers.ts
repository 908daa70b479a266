import { z } from 'zod';
import { compileHeaderOps, headerOpsShape, recordTarget, writerTarget } from '../header_ops.js';
import { defineModule, moduleFactory } from '../module.js';
import type { FerryRequest } from '../request.js';
import { compileResponseMatcher, responseMatcherSchema } from '../response_match.js';
import type { Middleware, ResponseWriter } from '../types.js';

const config = z.strictObject({
  request: z.strictObject(headerOpsShape).optional().describe('Operations on the request header fields, before the next handler runs.'),
  response: z
    .strictObject({
      ...headerOpsShape,
      deferred: z.boolean().optional().meta({
        description: 'Apply the ops just before the response header is sent, seeing the fields later handlers set.',
        default: false,
      }),
      require: responseMatcherSchema
        .optional()
        .describe('Apply the ops only to responses this matches (implies `deferred`). Unset: every response.'),
    })
    .optional()
    .describe('Operations on the response header fields.'),
});

/** `http.handlers.headers`: set, add, delete and replace request and response header fields. */
export const headersModule = defineModule({
  id: 'http.handlers.headers',
  description: 'Changes request and response header fields (set, add, delete, replace; deferred, require).',
  config,
  provision(cfg, ctx): Middleware {
    const reqOps = compileHeaderOps(cfg.request, ctx, `${ctx.path}.request`);
    const r = cfg.response;
    const resOps = compileHeaderOps(r, ctx, `${ctx.path}.response`);
    const require = r?.require ? compileResponseMatcher(r.require) : undefined;
    const deferred = r?.deferred === true || require !== undefined;
    const applyRes = (req: FerryRequest, res: ResponseWriter) => {
      if (require && !require(res.statusCode, (name) => res.getHeader(name))) return;
      resOps!(req, writerTarget(res));
    };
    return (req, res, next) => {
      if (reqOps) reqOps(req, recordTarget(req.headers as Record<string, string | string[] | undefined>));
      if (!resOps) return next(req, res);
      if (!deferred) {
        resOps(req, writerTarget(res));
        return next(req, res);
      }
      // Caddy's deferred ops: once, just before the head goes out, on what later handlers set
      // (nothing to do for a head already out, or a connection taken over).
      if (!res.headersSent && !res.hijacked) res.onHead(() => applyRes(req, res));
      return next(req, res);
    };
  },
});

export const headers = moduleFactory(headersModule);
