import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Matcher } from '../types.js';
import { compileRegexp, type ConfigRegexp } from '../regexp.js';
import { withPathPatterns } from './path_patterns.js';

/** Resolves `.`/`..` segments and repeated slashes, keeping a trailing slash (Go's path.Clean, nearly). */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  // Most paths are clean already: no '//' and no dot segments. Skip the split and join.
  if (p.charCodeAt(0) === 47 && !p.includes('//') && !p.includes('/.')) return p;
  const trailing = p.length > 1 && p.endsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const joined = `/${out.join('/')}`;
  return trailing && joined !== '/' ? `${joined}/` : joined;
}

/**
 * A glob where `*` matches any run of characters but `/` (Go's path.Match). Matched by the
 * linear-time engine: with V8's RegExp, several `*` in one segment (`/assets/*-*-*.js`)
 * backtrack polynomially, 11 s for a 4,000-character segment.
 */
function globToRegExp(glob: string): ConfigRegexp {
  let re = '';
  for (const c of glob) re += c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return compileRegexp(`^${re}$`);
}

function compilePattern(pattern: string): (path: string) => boolean {
  const p = pattern.toLowerCase();
  // Caddy cleans the request path unless the pattern itself asks for repeated slashes.
  const clean = p.includes('//') ? (s: string) => s : cleanPath;
  const stars = p.split('*').length - 1;
  if (stars === 0) return (s) => clean(s) === p;
  if (p === '*') return () => true;
  if (stars === 1 && p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (s) => clean(s).startsWith(prefix);
  }
  if (stars === 1 && p.startsWith('*')) {
    const suffix = p.slice(1);
    return (s) => clean(s).endsWith(suffix);
  }
  if (stars === 2 && p.startsWith('*') && p.endsWith('*')) {
    const middle = p.slice(1, -1);
    return (s) => clean(s).includes(middle);
  }
  const re = globToRegExp(p);
  return (s) => re.test(clean(s));
}

/**
 * `http.matchers.path`: case-insensitive path patterns — exact, `/prefix*`, `*suffix`,
 * `*substring*`, or a glob — any of which may match.
 */
export const pathMatcher = defineModule({
  id: 'http.matchers.path',
  description: 'Matches the request path against exact, prefix, suffix, substring or glob patterns.',
  config: z
    .array(z.string())
    .describe(
      'Path patterns, case-insensitive, matched against the cleaned path: exact, `/prefix*`, `*suffix`, `*substring*`, or a glob (`*` within one segment). Any one may match.',
    ),
  provision(patterns): Matcher {
    const tests = patterns.map(compilePattern);
    // The patterns go with the predicate, for the route index (route_index.ts).
    if (tests.length === 1) {
      const t = tests[0]!;
      return withPathPatterns((req) => t(req.path.toLowerCase()), patterns);
    }
    return withPathPatterns((req) => {
      const p = req.path.toLowerCase();
      return tests.some((t) => t(p));
    }, patterns);
  },
});

export const path = moduleFactory(pathMatcher, (...patterns: string[]) => patterns);
