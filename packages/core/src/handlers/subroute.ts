import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defineModule, moduleFactory } from '../module.js';
import type { RouteInput } from '../provision.js';
import type { Middleware } from '../types.js';

/** `http.handlers.subroute`: a nested route list, with its own error routes. */
export const subrouteModule = defineModule({
  id: 'http.handlers.subroute',
  description: 'Runs a nested list of routes; its errors.routes handle errors raised inside it.',
  config: z.strictObject({
    routes: z.array(z.unknown()).optional(),
    errors: z.strictObject({ routes: z.array(z.unknown()) }).optional(),
  }),
  async provision(cfg, ctx): Promise<Middleware> {
    const routes = await ctx.compileRoutes((cfg.routes ?? []) as RouteInput[], `${ctx.path}.routes`);
    if (!cfg.errors) return routes;
    const errors = await ctx.compileRoutes(cfg.errors.routes as RouteInput[], `${ctx.path}.errors.routes`);
    return async (req, res, next) => {
      try {
        await routes(req, res, next);
      } catch (err) {
        if (res.headersSent) throw err;
        req.error = HttpError.from(err);
        await errors(req, res, () => Promise.resolve());
      }
    };
  },
});

export const subroute = moduleFactory(subrouteModule);
