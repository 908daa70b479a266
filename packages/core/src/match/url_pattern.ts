/**
 * The platform's `URLPattern` — global in Node >= 23.8 — or, on older Node, urlpattern-polyfill,
 * imported only then: Node 24 and later never load it. Only the surface Ferry uses is typed here
 * (the polyfill's own types declare a global, which Ferry's must not).
 */

/** What `exec` gives for the pathname component. */
export interface URLPatternComponentResult {
  input: string;
  groups: Record<string, string | undefined>;
}

export interface URLPatternLike {
  readonly pathname: string;
  exec(input: { pathname: string }): { pathname: URLPatternComponentResult } | null;
}

export type URLPatternClass = new (init: { pathname: string }, options?: { ignoreCase?: boolean }) => URLPatternLike;

let polyfill: Promise<URLPatternClass> | undefined;

/** The `URLPattern` class to check patterns with: the global one where Node has it. */
export function urlPatternClass(): Promise<URLPatternClass> {
  const native = (globalThis as { URLPattern?: URLPatternClass }).URLPattern;
  if (native !== undefined) return Promise.resolve(native);
  polyfill ??= import('urlpattern-polyfill/urlpattern').then((m) => m.URLPattern as unknown as URLPatternClass);
  return polyfill;
}
