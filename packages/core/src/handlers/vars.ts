import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Template } from '../placeholders.js';
import type { Middleware } from '../types.js';

/** `http.handlers.vars`: sets request variables (`{http.vars.NAME}`); string values may hold placeholders. */
export const varsModule = defineModule({
  id: 'http.handlers.vars',
  description: 'Sets per-request variables, readable as {http.vars.NAME}.',
  config: z.record(
    z.string().meta({ title: 'name' }),
    z.unknown().describe('Value of `{http.vars.NAME}`: any JSON value; a string may hold placeholders, rendered per request.'),
  ),
  provision(vars, ctx): Middleware {
    const entries: [string, Template | unknown][] = Object.entries(vars).map(([k, v]) => [
      k,
      typeof v === 'string' ? ctx.template(v, `${ctx.path}.${k}`) : v,
    ]);
    return (req, res, next) => {
      for (const [k, v] of entries) {
        req.vars[k] = typeof v === 'object' && v !== null && 'render' in v ? (v as Template).render(req) : v;
      }
      return next(req, res);
    };
  },
});

export const vars = moduleFactory(varsModule, (values: Record<string, unknown>) => values);
