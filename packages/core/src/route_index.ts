import { cleanPath } from './match/path.js';
import { pathPatternsOf } from './match/path_patterns.js';
import { patternPrefixesOf } from './match/pattern_prefixes.js';
import { patternSubject } from './match/pattern_subject.js';
import type { FerryRequest } from './request.js';
import type { CompiledRoute } from './route.js';
import type { Matcher } from './types.js';

/**
 * Below this many consecutive path-only routes, calling each route's matcher costs less than a
 * lookup (which cleans the path once and walks a tree).
 */
export const MIN_INDEXED_RUN = 8;

/**
 * What an indexable path pattern asks of the cleaned, lowercased path: equality, or a prefix.
 * A `pattern` entry is a necessary condition only: the lowercased pattern subject starts with
 * `text`, and the route's matcher still decides (match/pattern_prefixes.ts).
 */
interface Entry {
  prefix: boolean;
  text: string;
  pattern?: true;
}

/**
 * The patterns the index can answer for, read as the `path` matcher reads them (match/path.ts's
 * compilePattern): no `*` is an exact path, one trailing `*` a prefix. A pattern with `//` is
 * compared with the uncleaned path, and any other `*` is a suffix, substring or glob: those
 * routes keep their own matcher.
 */
function entryOf(pattern: string): Entry | undefined {
  const p = pattern.toLowerCase();
  if (p.includes('//')) return undefined;
  const star = p.indexOf('*');
  if (star === -1) return { prefix: false, text: p };
  if (star === p.length - 1) return { prefix: true, text: p.slice(0, -1) };
  return undefined;
}

/**
 * A route's entries when its match is exactly "one of these path patterns", or begins with a
 * `pattern` matcher in each of its sets; else undefined.
 */
function entriesOf(route: CompiledRoute): Entry[] | undefined {
  if (route.match === undefined) return undefined;
  const prefixes = patternPrefixesOf(route.match);
  if (prefixes !== undefined) return prefixes.map((text) => ({ prefix: true, text, pattern: true }));
  const patterns = pathPatternsOf(route.match);
  if (patterns === undefined) return undefined;
  const entries: Entry[] = [];
  for (const pattern of patterns) {
    const entry = entryOf(pattern);
    if (entry === undefined) return undefined;
    entries.push(entry);
  }
  return entries;
}

/** The path the index looks up: the `path` matcher's, lowercased then cleaned. */
export function indexKey(path: string): string {
  return cleanPath(path.toLowerCase());
}

let lastSubject: string | undefined;
let lastPatternKey = '';

/** What pattern entries are looked up with: the pattern subject (ASCII), lowercased. */
function patternKey(rawPath: string): string {
  const subject = patternSubject(rawPath);
  if (subject !== lastSubject) {
    lastPatternKey = subject.toLowerCase();
    lastSubject = subject;
  }
  return lastPatternKey;
}

/** A node of the prefix tree: edges carry strings (a radix tree), so long shared prefixes cost one node. */
interface PrefixNode {
  label: string;
  /** The routes whose prefix ends here, ascending. */
  routes: number[] | undefined;
  /** By the first code unit of the child's label. */
  children: Map<number, PrefixNode> | undefined;
}

const leaf = (label: string): PrefixNode => ({ label, routes: undefined, children: undefined });

function addRoute(list: number[] | undefined, route: number): number[] {
  if (list === undefined) return [route];
  // Routes are added in ascending order; one route listing a pattern twice is kept once.
  if (list[list.length - 1] !== route) list.push(route);
  return list;
}

function insertPrefix(root: PrefixNode, text: string, route: number): void {
  let node = root;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    let child = node.children?.get(c);
    if (child === undefined) {
      child = leaf(text.slice(i));
      (node.children ??= new Map()).set(c, child);
      node = child;
      break;
    }
    const label = child.label;
    let k = 1;
    while (k < label.length && i + k < text.length && label.charCodeAt(k) === text.charCodeAt(i + k)) k++;
    if (k < label.length) {
      // The new prefix ends inside this edge or leaves it: split the edge where they part.
      const mid: PrefixNode = { label: label.slice(0, k), routes: undefined, children: new Map([[label.charCodeAt(k), child]]) };
      child.label = label.slice(k);
      node.children!.set(c, mid);
      child = mid;
    }
    node = child;
    i += k;
  }
  node.routes = addRoute(node.routes, route);
}

/**
 * The first route of `list` (ascending) at or after `start` that no matched group rules out, if
 * it comes before `best`; else `best`.
 */
/** The position of the first route at or after `start` in `list` (ascending). */
function lowerBound(list: readonly number[], start: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstOf(
  list: readonly number[],
  start: number,
  best: number,
  groups: ReadonlySet<string> | undefined,
  groupOf: readonly (string | undefined)[],
): number {
  for (let j = lowerBound(list, start); j < list.length; j++) {
    const r = list[j]!;
    if (r >= best) return best;
    const g = groupOf[r];
    if (g === undefined || groups === undefined || !groups.has(g)) return r;
  }
  return best;
}

/** The route lists of every node whose label path is a prefix of `key`, root first. */
function prefixLists(root: PrefixNode, key: string): number[][] {
  const lists: number[][] = [];
  let node = root;
  let i = 0;
  for (;;) {
    if (node.routes !== undefined) lists.push(node.routes);
    if (i >= key.length) return lists;
    const child = node.children?.get(key.charCodeAt(i));
    if (child === undefined || !key.startsWith(child.label, i)) return lists;
    i += child.label.length;
    node = child;
  }
}

/**
 * One run of consecutive indexable routes, [begin, end), compiled into a map of exact paths and
 * a prefix tree, each giving the routes (by position in the route list) that a path selects,
 * and a second prefix tree of the literal prefixes of `pattern` routes, which only narrows them
 * to candidates whose matchers are then called in order. A lookup gives the first route in list
 * order that matches: the route the linear walk would have run.
 */
export class RouteIndex {
  readonly end: number;
  readonly #exact = new Map<string, number[]>();
  readonly #prefixes = leaf('');
  readonly #patterns: PrefixNode | undefined;
  readonly #groupOf: readonly (string | undefined)[];
  readonly #match: readonly (Matcher | undefined)[];

  constructor(
    entries: readonly (readonly Entry[])[],
    begin: number,
    groupOf: readonly (string | undefined)[],
    match: readonly (Matcher | undefined)[] = [],
  ) {
    this.end = begin + entries.length;
    this.#groupOf = groupOf;
    this.#match = match;
    let patterns: PrefixNode | undefined;
    for (let i = 0; i < entries.length; i++) {
      for (const { prefix, text, pattern } of entries[i]!) {
        if (pattern) insertPrefix((patterns ??= leaf('')), text, begin + i);
        else if (prefix) insertPrefix(this.#prefixes, text, begin + i);
        else this.#exact.set(text, addRoute(this.#exact.get(text), begin + i));
      }
    }
    this.#patterns = patterns;
  }

  /**
   * The first route in [start, end) that `key` (see indexKey) selects and no matched group rules
   * out, or `end`. With pattern routes, `req` is what their matchers are called with; when one of
   * them changed the request's target, the result is `~n` (negative), `n` the route after that
   * one: look up again from `n`, with the new path.
   */
  first(key: string, start: number, groups: ReadonlySet<string> | undefined, req?: FerryRequest): number {
    const groupOf = this.#groupOf;
    let best = this.end;
    const exact = this.#exact.get(key);
    if (exact !== undefined) best = firstOf(exact, start, best, groups, groupOf);
    // Every node on the way down is a prefix of the key: each one's routes match it.
    let node = this.#prefixes;
    let i = 0;
    for (;;) {
      if (node.routes !== undefined) best = firstOf(node.routes, start, best, groups, groupOf);
      if (i >= key.length) break;
      const child = node.children?.get(key.charCodeAt(i));
      if (child === undefined || !key.startsWith(child.label, i)) break;
      i += child.label.length;
      node = child;
    }
    if (this.#patterns === undefined || req === undefined) return best;
    return this.#firstPattern(req, start, best, groups);
  }

  /** The first pattern candidate before `best` whose matcher holds, or `best`. */
  #firstPattern(req: FerryRequest, start: number, best: number, groups: ReadonlySet<string> | undefined): number {
    const lists = prefixLists(this.#patterns!, patternKey(req.rawPath));
    if (lists.length === 0) return best;
    const at = lists.map((list) => lowerBound(list, start));
    const url = req.url;
    for (;;) {
      // The smallest candidate left over all lists: candidates are tried in list order.
      let r = best;
      for (let k = 0; k < lists.length; k++) {
        const c = lists[k]![at[k]!];
        if (c !== undefined && c < r) r = c;
      }
      if (r >= best) return best;
      for (let k = 0; k < lists.length; k++) if (lists[k]![at[k]!] === r) at[k]!++;
      const g = this.#groupOf[r];
      if (g !== undefined && groups?.has(g)) continue;
      if (this.#match[r]!(req)) return r;
      if (req.url !== url) return ~(r + 1);
    }
  }
}

/**
 * For each position of `routes`, the index of the run of indexable routes it belongs to, when
 * that run is long enough to be worth one (MIN_INDEXED_RUN); undefined when no run is.
 */
export function indexRoutes(routes: readonly CompiledRoute[]): (RouteIndex | undefined)[] | undefined {
  const groupOf = routes.map((r) => r.group);
  const match = routes.map((r) => r.match);
  let at: (RouteIndex | undefined)[] | undefined;
  let run: Entry[][] = [];
  const close = (end: number) => {
    if (run.length >= MIN_INDEXED_RUN) {
      const index = new RouteIndex(run, end - run.length, groupOf, match);
      at ??= new Array<RouteIndex | undefined>(routes.length).fill(undefined);
      at.fill(index, end - run.length, end);
    }
    run = [];
  };
  for (let i = 0; i < routes.length; i++) {
    const entries = entriesOf(routes[i]!);
    if (entries === undefined) close(i);
    else run.push(entries);
  }
  close(routes.length);
  return at;
}
