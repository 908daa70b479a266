import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { FerryRequest } from '../request.js';
import type { Matcher } from '../types.js';
import { cleanPath } from './path.js';

export const regexpConfig = z.strictObject({
  pattern: z.string().describe('Regular expression (JavaScript syntax, unanchored: use `^` and `$`) to match.'),
  name: z
    .string()
    .optional()
    .describe('Name for the captures: `{http.regexp.NAME.1}`, `{http.regexp.NAME.GROUP}`. Unset: `{http.regexp.1}`, `{http.regexp.GROUP}`.'),
});

/** Compiles a pattern that stores its captures as `{http.regexp.NAME.N}` / `{http.regexp.NAME.GROUP}`. */
export function captureMatcher(config: z.output<typeof regexpConfig>, subject: (req: FerryRequest) => string | undefined): Matcher {
  let re: RegExp;
  try {
    re = new RegExp(config.pattern);
  } catch (err) {
    throw new Error(`invalid regular expression: ${(err as Error).message}`);
  }
  const prefix = config.name ? `${config.name}.` : '';
  return (req) => {
    const s = subject(req);
    if (s === undefined) return false;
    const m = re.exec(s);
    if (!m) return false;
    for (let i = 0; i < m.length; i++) req.captures.set(`${prefix}${i}`, m[i] ?? '');
    if (m.groups) for (const [k, v] of Object.entries(m.groups)) req.captures.set(`${prefix}${k}`, v ?? '');
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
