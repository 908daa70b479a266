import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Matcher } from '../types.js';

/**
 * `http.matchers.query`: for each key, the query has it and one of its values is listed
 * (`*` matches any value).
 */
export const queryMatcher = defineModule({
  id: 'http.matchers.query',
  description: 'Matches query parameters by key and value ("*" matches any value).',
  config: z
    .record(
      z.string().meta({ title: 'key' }),
      z
        .array(z.string())
        .describe('Values, one of which the parameter must have (exact); `"*"` matches any value, but the key must be there.'),
    )
    .describe('Every key listed must match; an empty `{}` matches requests without a query string.'),
  provision(fields): Matcher {
    const checks = Object.entries(fields).map(([key, values]) => {
      const any = values.includes('*');
      const set = new Set(values);
      return (q: URLSearchParams) => {
        const got = q.getAll(key);
        if (got.length === 0) return false;
        return any || got.some((v) => set.has(v));
      };
    });
    // Caddy: an empty query matcher matches requests without a query string.
    if (checks.length === 0) return (req) => req.rawQuery === '';
    return (req) => {
      const q = req.query;
      return checks.every((c) => c(q));
    };
  },
});

export const query = moduleFactory(queryMatcher, (fields: Record<string, string[]>) => fields);
