import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import { compilePattern, matchPatterns } from './pattern.js';

/**
 * `http.matchers.url_pattern`: Caddy's URLPattern matcher, in its JSON. One pattern per matcher,
 * case-sensitive unless `ignore_case` (Caddy's default, unlike Ferry's `pattern` and `path`). The
 * captures are `{http.url_pattern.pathname.NAME}`, as in Caddy, and `req.params`. Ferry matches
 * the pathname only: an absolute pattern or one with a query is refused, and `base_url` is a
 * Caddy option Ferry lacks (use the `host` and `query` matchers beside it).
 */
export const urlPatternMatcher = defineModule({
  id: 'http.matchers.url_pattern',
  description: "Caddy's URLPattern matcher: the path against one pathname pattern; captures become {http.url_pattern.pathname.*}.",
  config: z.strictObject({
    pattern: z
      .string()
      .describe(
        'A URLPattern pathname pattern (`/books/:id`, `/files/*`, `:id(\\\\d+)`), matched against the cleaned path with `%2F` kept inside its segment. Regexp groups use RE2 syntax.',
      ),
    ignore_case: z.boolean().optional().describe('Match letters in any case (default false, as Caddy; the `path` matcher always does).'),
  }),
  provision: async ({ pattern, ignore_case }, ctx) =>
    matchPatterns([await compilePattern(pattern, `${ctx.path}.pattern`, ignore_case ?? false)]),
});

/** `urlPattern('/books/:id', { ignoreCase })`: Caddy's `url_pattern` matcher in code. */
export const urlPattern = moduleFactory(urlPatternMatcher, (pattern: string, options: { ignoreCase?: boolean } = {}) => ({
  pattern,
  ...(options.ignoreCase === undefined ? {} : { ignore_case: options.ignoreCase }),
}));
