import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { FerryRequest } from '../request.js';
import type { Matcher } from '../types.js';
import { compileRegexp } from '../regexp.js';
import { cleanPath } from './path.js';

export const regexpConfig = z.strictObject({
  pattern: z
    .string()
    .describe(
      "Regular expression to match, unanchored (use `^` and `$`). RE2 syntax, as Caddy's (Go's): `(?P<name>…)` or `(?<name>…)` groups, `(?i)` flags, no lookaround or backreferences; matched in linear time.",
    ),
  name: z
    .string()
    .optional()
    .describe(
      'Name for the captures: `{http.regexp.NAME.1}`, `{http.regexp.NAME.GROUP}`. Unset: `{http.regexp.1}`, `{http.regexp.GROUP}`.',
    ),
});

/**
 * Compiles a pattern (RE2 syntax, linear-time matching) that stores its captures as
 * `{http.regexp.NAME.N}` / `{http.regexp.NAME.GROUP}`. A bad pattern is a config error at
 * `path` (default: the module being provisioned).
 */
export function captureMatcher(
  config: z.output<typeof regexpConfig>,
  subject: (req: FerryRequest) => string | undefined,
  path?: string,
): Matcher {
  const re = compileRegexp(config.pattern, path);
  const prefix = config.name ? `${config.name}.` : '';
  // Placeholder keys built once, not per request.
  const numbered = Array.from({ length: re.groupCount + 1 }, (_, i) => `${prefix}${i}`);
  const named = [...re.groupNames].map(([name, i]) => [`${prefix}${name}`, i] as const);
  return (req) => {
    const s = subject(req);
    if (s === undefined) return false;
    const m = re.exec(s);
    if (!m) return false;
    const c = m.captures;
    for (let i = 0; i < numbered.length; i++) req.captures.set(numbered[i]!, c[i]!);
    for (const [key, i] of named) req.captures.set(key, c[i]!);
    return true;
  };
}

/** `http.matchers.path_regexp`: the (decoded) path against a regular expression; captures become placeholders. */
export const pathRegexpMatcher = defineModule({
  id: 'http.matchers.path_regexp',
  description: 'Matches the request path against a regular expression; captures become {http.regexp.*}.',
  config: regexpConfig,
  // The cleaned path, as Caddy's (caddy#4407): `/x/../secret` must meet `^/secret`.
  provision: (config) => captureMatcher(config, (req) => cleanPath(req.path)),
});

export const pathRegexp = moduleFactory(pathRegexpMatcher, (pattern: string, name?: string) => ({ pattern, name }));
