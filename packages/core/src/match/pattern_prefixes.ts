import type { Matcher } from '../types.js';

/**
 * The literal prefixes of the `pattern` matchers a provisioned matcher begins with (pattern.ts):
 * it can only hold when the request's pattern subject (pattern_subject.ts), lowercased, starts
 * with one of them — and when none does, calling it has no effect at all, since the pattern is
 * the first thing it checks. The route index (route_index.ts) reads these to try only the pattern
 * routes a path can select; unlike the path patterns (path_patterns.ts), a prefix is a necessary
 * condition, not the answer: the index still calls the route's matcher.
 */
const prefixes = new WeakMap<Matcher, readonly string[]>();

/** Records that `matcher` can only hold when the lowercased pattern subject starts with one of `list`; returns it. */
export function withPatternPrefixes(matcher: Matcher, list: readonly string[]): Matcher {
  prefixes.set(matcher, list);
  return matcher;
}

/** The literal prefixes `matcher` is narrowed by, or undefined when it is not a pattern matcher first. */
export function patternPrefixesOf(matcher: Matcher): readonly string[] | undefined {
  return prefixes.get(matcher);
}
