import type { Matcher } from '../types.js';

/**
 * The path patterns a provisioned matcher stands for, when it matches exactly when one of them
 * does (the `path` matcher's patterns, or the union over a route's matcher sets when every set
 * is such a matcher). Matchers are plain predicates; the route index reads this to compile
 * path-only routes into a lookup instead of calling each predicate in turn.
 */
const patterns = new WeakMap<Matcher, readonly string[]>();

/** Records that `matcher` holds exactly when one of the path `list` patterns matches; returns it. */
export function withPathPatterns(matcher: Matcher, list: readonly string[]): Matcher {
  patterns.set(matcher, list);
  return matcher;
}

/** The path patterns `matcher` stands for, or undefined when it is (or may be) anything else. */
export function pathPatternsOf(matcher: Matcher): readonly string[] | undefined {
  return patterns.get(matcher);
}
