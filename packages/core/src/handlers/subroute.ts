import { z } from 'zod';
import { HttpError } from '../errors.js';
import { HeadCallbacks, type HeadCallback } from '../head.js';
import { defineModule, moduleFactory } from '../module.js';
import type { RouteInput } from '../provision.js';
import type { Middleware } from '../types.js';
import { ResponseWriterWrapper } from '../writer.js';

/**
 * The writer a subroute with error routes hands its routes: it keeps the head callbacks they
 * register, so that when they fail the error routes answer without them, as Caddy's error routes
 * get the subroute's writer without the wrappers made inside it. They run at the head of the
 * writer underneath, in the place of the first of them.
 */
class HeadScope extends ResponseWriterWrapper {
  #own: HeadCallbacks | undefined;
  #registered = false;

  override onHead(fn: HeadCallback): void {
    // Too late for a head (sent, or the connection taken over): the writer underneath says so.
    if (this.inner.headersSent || this.inner.hijacked) {
      this.inner.onHead(fn);
      return;
    }
    if (!this.#registered) {
      this.inner.onHead(() => this.#own?.run());
      this.#registered = true;
    }
    (this.#own ??= new HeadCallbacks()).add(fn);
  }

  /** The routes failed: what they registered is let go. */
  drop(): void {
    this.#own = undefined;
  }
}

/** `http.handlers.subroute`: a nested route list, with its own error routes. */
export const subrouteModule = defineModule({
  id: 'http.handlers.subroute',
  description: 'Runs a nested list of routes; its errors.routes handle errors raised inside it.',
  config: z.strictObject({
    routes: z
      .array(z.unknown().meta({ title: 'route' }))
      .optional()
      .meta({ description: "Routes to run, in order, as a server's; unmatched requests go on to the next handler.", default: [] }),
    errors: z
      .strictObject({
        routes: z
          .array(z.unknown().meta({ title: 'route' }))
          .describe('Error routes, with `{http.error.status_code}` and `{http.error.message}`.'),
      })
      .optional()
      .describe(
        "Handles errors raised in `routes`; unanswered, the error's status is sent. Unset: errors go to the enclosing error routes.",
      ),
  }),
  async provision(cfg, ctx): Promise<Middleware> {
    const routes = await ctx.compileRoutes((cfg.routes ?? []) as RouteInput[], `${ctx.path}.routes`);
    if (!cfg.errors) return routes;
    const errors = await ctx.compileRoutes(cfg.errors.routes as RouteInput[], `${ctx.path}.errors.routes`);
    return async (req, res, next) => {
      const scope = new HeadScope(res);
      try {
        await routes(req, scope, next);
      } catch (err) {
        if (res.headersSent) throw err;
        scope.drop();
        req.error = HttpError.from(err);
        // Caddy ends its error routes with errorEmptyHandler: unanswered, the error's status still goes out.
        await errors(req, res, async (_q, rs) => {
          if (!rs.headersSent) rs.statusCode = req.error!.status;
        });
      }
    };
  },
});

/**
 * `subroute({ routes, errors })`. The options pass through as given: the nested routes hold
 * code matchers and handlers (module refs, functions), which a camelCase-to-config conversion
 * would take apart.
 */
export const subroute = moduleFactory(
  subrouteModule,
  (options: SubrouteOptions = {}) => options as { routes?: unknown[]; errors?: { routes: unknown[] } },
);

export interface SubrouteOptions {
  routes?: readonly RouteInput[];
  errors?: { routes: readonly RouteInput[] };
}
