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
      'Name for the captures: `{http.regexp.NAME.1}`, `{http.regexp.NAME.GROUP}`. Named or not, a match also sets `{http.regexp.1}`, `{http.regexp.GROUP}`: the last regexp matcher that matched (Caddy >= 2.8).',
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
  // Placeholder keys built once, not per request. As Caddy >= 2.8, every match sets the unnamed
  // keys (`1`, `GROUP`: so `{http.regexp.1}` is the last regexp matcher's that matched), and a
  // named matcher its own (`NAME.1`, `NAME.GROUP`) as well.
  const numbered: [string, number][] = [];
  const named: [string, number][] = [];
  for (const prefix of config.name ? [`${config.name}.`, ''] : ['']) {
    for (let i = 0; i <= re.groupCount; i++) numbered.push([`${prefix}${i}`, i]);
    for (const [group, i] of re.groupNames) named.push([`${prefix}${group}`, i]);
  }
  const keys = [...numbered, ...named];
  return (req) => {
    const s = subject(req);
    if (s === undefined) return false;
    const m = re.exec(s);
    if (!m) return false;
    const c = m.captures;
    const captures = req.captures;
    for (let i = 0; i < keys.length; i++) {
      const [key, group] = keys[i]!;
      captures.set(key, c[group]!);
    }
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
