import { z } from 'zod';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration the way Caddy does: a Go duration string (`"1m30s"`, `"250ms"`, `"1.5h"`,
 * Caddy's `"d"` for days) or an integer number of nanoseconds. Returns milliseconds.
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isInteger(input)) throw new Error(`invalid duration ${input}: a number is integer nanoseconds`);
    return input / 1e6;
  }
  const s = input.trim();
  // As Go's time.ParseDuration: a bare number in a string is an error ("missing unit"), except 0.
  // A "30" meant as seconds must not silently become 30ns; integer nanoseconds are a JSON number.
  if (/^[-+]?\d+$/.test(s)) {
    if (Number(s) === 0) return 0;
    throw new Error(`invalid duration "${input}": missing unit (e.g. "${s}s"; integer nanoseconds go as a number, not a string)`);
  }
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/gy;
  let sign = 1;
  let i = 0;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (i >= s.length) throw new Error(`invalid duration "${input}"`);
  let total = 0;
  re.lastIndex = i;
  while (re.lastIndex < s.length) {
    const m = re.exec(s);
    if (!m) throw new Error(`invalid duration "${input}" (expected e.g. "1m30s", "250ms" or integer nanoseconds)`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return sign * total;
}

/**
 * Milliseconds as the shortest Caddy duration string (`60000` → `"1m"`, `0` → `"0s"`), for
 * documenting a default that code keeps in milliseconds.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * Zod schema for a duration option: accepts what `parseDuration` does, yields milliseconds.
 * Titled `duration` for the JSON Schema and the generated reference.
 */
export const duration = () =>
  z
    .union([z.string(), z.number()])
    .meta({ title: 'duration' })
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    });
