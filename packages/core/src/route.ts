import { pathPatternsOf, withPathPatterns } from './match/path_patterns.js';
import { patternPrefixesOf, withPatternPrefixes } from './match/pattern_prefixes.js';
import { indexKey, indexRoutes } from './route_index.js';
import { DONE, type Handler, type Matcher, type Middleware } from './types.js';

/** A route after provisioning: its matcher sets folded into one predicate, its handlers into one middleware. */
export interface CompiledRoute {
  /** Undefined when the route has no matcher sets (it matches everything). */
  match: Matcher | undefined;
  handler: Middleware;
  terminal: boolean;
  group: string | undefined;
}

const ENDED: Handler = () => DONE;

const twice = (): Promise<void> => Promise.reject(new Error('next() called more than once by a middleware'));

/**
 * Folds a list of middlewares into one: each one's `next` is the one after it, the last one's is
 * the outer `next`. A `next` called twice rejects: a response written twice is always a bug.
 */
export function compose(list: readonly Middleware[]): Middleware {
  const n = list.length;
  if (n === 0) return (req, res, next) => next(req, res);
  if (n === 1) return list[0]!;
  // One closure per step, holding its own "called" flag: the hot path allocates nothing else.
  const step = (i: number, next: Handler): Handler => {
    let called = false;
    return (req, res) => {
      if (called) return twice();
      called = true;
      return i === n ? next(req, res) : list[i]!(req, res, step(i + 1, next));
    };
  };
  const first = list[0]!;
  return (req, res, next) => first(req, res, step(1, next));
}

/** ANDs the matchers of one set; ORs the sets of a route (Caddy's matcher-set semantics). */
export function matchAll(matchers: readonly Matcher[]): Matcher {
  if (matchers.length === 1) return matchers[0]!;
  const all: Matcher = (req) => {
    for (const m of matchers) if (!m(req)) return false;
    return true;
  };
  // A set that starts with a `pattern` matcher is narrowed by its prefixes: nothing after it runs when it fails.
  const prefixes = patternPrefixesOf(matchers[0]!);
  return prefixes === undefined ? all : withPatternPrefixes(all, prefixes);
}

export function matchAny(sets: readonly Matcher[]): Matcher | undefined {
  if (sets.length === 0) return undefined;
  if (sets.length === 1) return sets[0];
  const any: Matcher = (req) => {
    for (const m of sets) if (m(req)) return true;
    return false;
  };
  // Sets that each begin with a `pattern` matcher: the route index narrows the route by their prefixes.
  const prefixes: string[] = [];
  for (const m of sets) {
    const p = patternPrefixesOf(m);
    if (p === undefined) break;
    prefixes.push(...p);
  }
  if (prefixes.length > 0 && sets.every((m) => patternPrefixesOf(m) !== undefined)) return withPatternPrefixes(any, prefixes);
  // Sets that are each one `path` matcher make a route the route index can answer for.
  const union: string[] = [];
  for (const m of sets) {
    const patterns = pathPatternsOf(m);
    if (patterns === undefined) return any;
    union.push(...patterns);
  }
  return withPathPatterns(any, union);
}

/**
 * Compiles a route list into one middleware, once (Caddy's `RouteList.Compile`): a matching
 * route runs its handlers, whose `next` continues with the routes after it — or, for a
 * `terminal` route, leaves the list. Within a `group`, only the first matching route runs.
 * Runs of routes that match on path patterns alone are looked up in an index (route_index.ts)
 * instead of tried one by one; the route chosen is the same.
 */
export function chainRoutes(routes: readonly CompiledRoute[]): Middleware {
  const n = routes.length;
  if (n === 0) return (req, res, next) => next(req, res);
  if (n === 1 && routes[0]!.group === undefined && !routes[0]!.terminal) {
    const r = routes[0]!;
    if (!r.match) return r.handler;
    const m = r.match;
    return (req, res, next) => (m(req) ? r.handler(req, res, next) : next(req, res));
  }
  const indexAt = indexRoutes(routes);
  const run = (
    start: number,
    req: Parameters<Handler>[0],
    res: Parameters<Handler>[1],
    next: Handler,
    groups: Set<string> | undefined,
  ): Promise<void> => {
    // The index key of req.path, computed once per path: a matcher of a route between two
    // indexed runs could rewrite the path, and checking costs one comparison.
    let keyPath: string | undefined;
    let key = '';
    for (let i = start; i < n; i++) {
      const index = indexAt?.[i];
      if (index !== undefined) {
        const path = req.path;
        if (path !== keyPath) key = indexKey((keyPath = path));
        const found = index.first(key, i, groups, req);
        // A pattern route's matcher rewrote the target: look up again after it, with the new path.
        if (found < 0) {
          i = ~found - 1;
          continue;
        }
        // None in this run: go on with the route after it.
        if (found === index.end) {
          i = found - 1;
          continue;
        }
        i = found;
      } else {
        const r = routes[i]!;
        if (r.group !== undefined && groups?.has(r.group)) continue;
        if (r.match !== undefined && !r.match(req)) continue;
      }
      const r = routes[i]!;
      if (r.group !== undefined) (groups ??= new Set()).add(r.group);
      // A terminal route ends the chain here (Caddy gives its handlers an empty `next`).
      if (r.terminal) return r.handler(req, res, ENDED);
      const after = i + 1;
      const g = groups;
      let called = false;
      return r.handler(req, res, (rq, rs) => {
        if (called) return twice();
        called = true;
        return run(after, rq, rs, next, g);
      });
    }
    return next(req, res);
  };
  return (req, res, next) => run(0, req, res, next, undefined);
}
