import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Matcher } from '../types.js';

/** `http.matchers.method`: the request method is one of these. */
export const methodMatcher = defineModule({
  id: 'http.matchers.method',
  description: 'Matches the request method.',
  config: z.array(z.string().min(1)).describe('Methods (`GET`, `POST`, …), case-insensitive; any one may match.'),
  provision(methods): Matcher {
    const set = new Set(methods.map((m) => m.toUpperCase()));
    return (req) => set.has(req.method);
  },
});

export const method = moduleFactory(methodMatcher, (...methods: string[]) => methods);
