import { RE2JS } from 're2js';
import { z } from 'zod';
import { ConfigError, type ConfigIssue, joinPath } from '../errors.js';
import { defineModule, moduleFactory } from '../module.js';
import { NO_PARAMS, type RequestParams } from '../request.js';
import { decodePath } from '../target.js';
import type { Matcher } from '../types.js';
import { literalText, patternSubject } from './pattern_subject.js';
import { literalPrefix, parsePattern, PatternSyntaxError, regexpOf } from './pattern_syntax.js';
import { withPatternPrefixes } from './pattern_prefixes.js';
import { urlPatternClass } from './url_pattern.js';

/** One compiled pathname pattern: matched in linear time, its groups decoded into params. */
export class CompiledPattern {
  readonly #re: RE2JS;
  readonly #names: readonly string[];
  /**
   * Per group: written `(…)?` with nothing around it. A JavaScript RegExp (URLPattern's engine)
   * never lets such a group match the empty string — it is then absent — where RE2 captures `''`.
   */
  readonly #bareOptional: readonly boolean[];

  constructor(
    readonly source: string,
    re: RE2JS,
    names: readonly string[],
    /** Lowercased literal text every matching subject starts with (route_index.ts). */
    readonly prefix: string,
    bareOptional: readonly boolean[] = [],
  ) {
    this.#re = re;
    this.#names = names;
    this.#bareOptional = bareOptional;
  }

  /** The params when `subject` (see patternSubject) matches, else undefined. */
  exec(subject: string): RequestParams | undefined {
    const re = this.#re;
    // The DFA only says yes or no, and is faster: most long subjects are misses.
    if ((subject.length > 128 || this.#names.length === 0) && !re.test(subject)) return undefined;
    if (this.#names.length === 0) return NO_PARAMS;
    const m = re.matcher(subject);
    if (!m.matches()) return undefined;
    // No prototype: names come from config, and `:__proto__` is a valid one.
    const params = Object.create(null) as Record<string, string | undefined>;
    for (let i = 0; i < this.#names.length; i++) {
      const v = m.group(i + 1);
      params[this.#names[i]!] = v === null || (v === '' && this.#bareOptional[i]) ? undefined : decodePath(v);
    }
    return params;
  }
}

/** Cleaning removes these from every path: a pattern holding one could never match. */
const UNMATCHABLE = /\/\/|(?:^|\/)\.\.?(?:\/|$)/;

function patternProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('/'))
    return 'a pattern matches the path only and starts with "/" (no scheme, host, query or fragment: use the host and query matchers for those)';
  if (UNMATCHABLE.test(pattern))
    return 'the path is cleaned before matching (no "//", "." or ".." segments are left), so this pattern could never match';
  return undefined;
}

/**
 * A piece of literal text in the canonical encoding. URLPattern resolves a dot segment inside
 * one (`/.(a|b)` means `/(a|b)` to it), the cleaned path never holds one: refused either way.
 */
function literal(text: string): string {
  const pieces = text.split('/');
  for (let i = 1; i < pieces.length; i++) {
    const d = decodePath(pieces[i]!);
    if (d === '.' || d === '..') throw new PatternSyntaxError(`"${text}" holds a dot segment, which the cleaned path never does`);
  }
  return literalText(text);
}

/**
 * Compiles one pathname pattern in URLPattern syntax, case-insensitive as the `path` matcher
 * unless `ignoreCase` is false. Checked by the platform's `URLPattern` too; a bad pattern is a
 * ConfigError at `path`.
 */
export async function compilePattern(pattern: string, path: string, ignoreCase = true): Promise<CompiledPattern> {
  const fail = (why: string) => new ConfigError([{ path, message: `invalid pattern ${JSON.stringify(pattern)}: ${why}` }]);
  const problem = patternProblem(pattern);
  if (problem !== undefined) throw fail(problem);
  let parts: ReturnType<typeof parsePattern>;
  try {
    parts = parsePattern(pattern, literal);
  } catch (err) {
    if (err instanceof PatternSyntaxError) throw fail(err.message);
    throw err;
  }
  const URLPattern = await urlPatternClass();
  try {
    new URLPattern({ pathname: pattern }, { ignoreCase });
  } catch (err) {
    throw fail(`URLPattern refuses it (${(err as Error).message})`);
  }
  const { source, names, bareOptional } = regexpOf(parts);
  let re: RE2JS;
  try {
    re = RE2JS.compile(ignoreCase ? `(?i)${source}` : source);
  } catch (err) {
    const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
    throw fail(`a regexp group is not RE2 syntax, which Ferry matches patterns with (linear time; no lookaround): ${reason}`);
  }
  return new CompiledPattern(source, re, names, literalPrefix(parts), bareOptional);
}

/** Compiles each pattern of a list, reporting every bad one at its index under `path`. */
export async function compilePatterns(patterns: readonly string[], path: string): Promise<CompiledPattern[]> {
  const issues: ConfigIssue[] = [];
  const out: CompiledPattern[] = [];
  for (let i = 0; i < patterns.length; i++) {
    try {
      out.push(await compilePattern(patterns[i]!, joinPath(path, i)));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** A matcher trying `compiled` in order; the first that matches gives `req.params`. */
export function matchPatterns(compiled: readonly CompiledPattern[]): Matcher {
  const matcher: Matcher =
    compiled.length === 1
      ? (req) => {
          const params = compiled[0]!.exec(patternSubject(req.rawPath));
          if (params === undefined) return false;
          req.params = params;
          return true;
        }
      : (req) => {
          const subject = patternSubject(req.rawPath);
          for (const c of compiled) {
            const params = c.exec(subject);
            if (params !== undefined) {
              req.params = params;
              return true;
            }
          }
          return false;
        };
  return withPatternPrefixes(
    matcher,
    compiled.map((c) => c.prefix),
  );
}

/**
 * `http.matchers.pattern`: the path against URLPattern pathname patterns (`/users/:id`,
 * `/files/*`, `/posts/:id(\\d+)`, `/docs{/:page}?`); the first that matches gives `req.params`
 * and `{http.params.NAME}`. Not Caddy's: Caddy's `url_pattern` (url_pattern_matcher.ts) takes one
 * pattern and is case-sensitive by default.
 */
export const patternMatcher = defineModule({
  id: 'http.matchers.pattern',
  description: 'Matches the path against URLPattern pathname patterns (/users/:id); captures become req.params and {http.params.*}.',
  config: z
    .array(z.string())
    .describe(
      'URLPattern pathname patterns (`/users/:id`, `/files/*`, `:id(\\\\d+)`, `{/:x}?`), case-insensitive, matched against the cleaned path with `%2F` kept inside its segment. Any one may match; the first that does gives `req.params` and `{http.params.NAME}` (`{http.params.0}` for a `*`). Regexp groups use RE2 syntax.',
    ),
  provision: async (patterns, ctx) => matchPatterns(await compilePatterns(patterns, ctx.path)),
});

/** `pattern('/users/:id', …)`: the `pattern` matcher in code. */
export const pattern = moduleFactory(patternMatcher, (...patterns: string[]) => patterns);
