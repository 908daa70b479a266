import { z } from 'zod';

/**
 * Caddy's ResponseMatcher: a response matches when both its fields do. Used by
 * `headers.response.require` and `encode.match`.
 */
export const responseMatcherSchema = z.strictObject({
  status_code: z
    .array(z.number().int().min(1).max(999))
    .optional()
    .describe(
      'Status codes, one of which the response must have; a single digit matches its class (`2` is any 2xx). Unset or empty: any status.',
    ),
  headers: z
    .record(z.string().meta({ title: 'field' }), z.array(z.string()).nullable())
    .optional()
    .describe(
      'Fields that must all match: `null` requires the field absent, `[]` present, else one value must match one pattern (`*` wildcards at either end).',
    ),
});

export type ResponseMatcherConfig = z.output<typeof responseMatcherSchema>;

/** What a response matcher looks at: the status and a header lookup. */
export type ResponseMatcher = (status: number, header: (name: string) => number | string | string[] | undefined) => boolean;

/** One value pattern: exact, or with a leading and/or trailing `*` (prefix, suffix, substring). */
export function valuePattern(pattern: string): (value: string) => boolean {
  if (pattern === '*') return () => true;
  const pre = pattern.startsWith('*');
  const suf = pattern.endsWith('*') && pattern.length > 1;
  const core = pattern.slice(pre ? 1 : 0, suf ? -1 : undefined);
  if (pre && suf) return (v) => v.includes(core);
  if (pre) return (v) => v.endsWith(core);
  if (suf) return (v) => v.startsWith(core);
  return (v) => v === core;
}

export function statusMatches(codes: readonly number[], status: number): boolean {
  return codes.some((c) => (c < 10 ? Math.floor(status / 100) === c : c === status));
}

export function compileResponseMatcher(config: ResponseMatcherConfig): ResponseMatcher {
  const codes = config.status_code;
  const fields = Object.entries(config.headers ?? {}).map(([name, patterns]) => ({
    name: name.toLowerCase(),
    tests: patterns?.map(valuePattern),
  }));
  return (status, header) => {
    if (codes && codes.length > 0 && !statusMatches(codes, status)) return false;
    for (const { name, tests } of fields) {
      const v = header(name);
      if (tests === undefined) {
        if (v !== undefined) return false;
        continue;
      }
      if (v === undefined) return false;
      if (tests.length === 0) continue;
      const values = Array.isArray(v) ? v : [String(v)];
      if (!values.some((x) => tests.some((t) => t(x)))) return false;
    }
    return true;
  };
}
