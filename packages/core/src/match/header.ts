import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { FerryRequest } from '../request.js';
import type { Matcher } from '../types.js';
import { captureMatcher, regexpConfig } from './path_regexp.js';
import { valuePattern } from '../response_match.js';
import { joinPath } from '../errors.js';

/** The values of a request header as a list (`Host` read from the authority, as Go does). */
export function headerValues(req: FerryRequest, name: string): string[] | undefined {
  if (name === 'host') return req.authority ? [req.authority] : undefined;
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [String(v)];
}

/**
 * `http.matchers.header`: for each field, one of the values matches (`*` wildcards at either end);
 * an empty list requires the field to be present, `null` requires it to be absent.
 */
export const headerMatcher = defineModule({
  id: 'http.matchers.header',
  description: 'Matches request header fields by value (with * wildcards), presence ([]), or absence (null).',
  config: z.record(
    z.string().meta({ title: 'field' }),
    z
      .array(z.string())
      .nullable()
      .describe(
        'Values, one of which must match (`*` wildcards at either end); `[]`: the field must be present, `null`: absent. Field names are case-insensitive.',
      ),
  ),
  provision(fields): Matcher {
    const checks = Object.entries(fields).map(([name, values]) => {
      const key = name.toLowerCase();
      if (values === null) return (req: FerryRequest) => headerValues(req, key) === undefined;
      if (values.length === 0) return (req: FerryRequest) => headerValues(req, key) !== undefined;
      const tests = values.map(valuePattern);
      return (req: FerryRequest) => {
        const got = headerValues(req, key);
        return got?.some((v) => tests.some((t) => t(v))) ?? false;
      };
    });
    return (req) => checks.every((c) => c(req));
  },
});

export const header = moduleFactory(headerMatcher, (fields: Record<string, string[] | null>) => fields);

/** `http.matchers.header_regexp`: header fields against regular expressions; captures become placeholders. */
export const headerRegexpMatcher = defineModule({
  id: 'http.matchers.header_regexp',
  description: 'Matches request header fields against regular expressions; captures become {http.regexp.*}.',
  config: z.record(
    z.string().meta({ title: 'field' }),
    regexpConfig.describe("The regular expression the field's values (joined with `,`) must match; a missing field does not match."),
  ),
  provision(fields, ctx): Matcher {
    const checks = Object.entries(fields).map(([name, cfg]) => {
      const key = name.toLowerCase();
      return captureMatcher(cfg, (req) => headerValues(req, key)?.join(','), joinPath(ctx.path, name, 'pattern'));
    });
    return (req) => checks.every((c) => c(req));
  },
});

export const headerRegexp = moduleFactory(headerRegexpMatcher, (fields: Record<string, { pattern: string; name?: string }>) => fields);
