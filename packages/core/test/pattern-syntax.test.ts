/**
 * The `pattern` matcher parses URLPattern's pathname syntax itself and matches with RE2
 * (match/pattern_syntax.ts says why). These tests hold it to URLPattern: for random patterns and
 * paths, the same patterns are accepted, the same paths match, with the same groups — and it stays
 * linear where URLPattern's backtracking RegExp does not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/index.js';
import { compilePattern } from '../src/match/pattern.js';
import { patternSubject } from '../src/match/pattern_subject.js';
import { urlPatternClass } from '../src/match/url_pattern.js';

const URLPattern = await urlPatternClass();

/** Pattern pieces chosen to meet every rule of the parser: prefixes, groups, modifiers, regexps, escapes. */
const patternPiece = fc.constantFrom(
  '/',
  '/',
  'a',
  'b',
  'B',
  '-',
  '.',
  ':x',
  ':y',
  ':z',
  '*',
  '?',
  '+',
  '(\\d+)',
  '(a|b)',
  '([ab]+)',
  '{',
  '}',
  '{/:x}',
  '{-:y}',
  '{/b}',
  '{a}',
  '\\:',
  '\\*',
  ':x(\\d+)',
);
const patternText = fc.array(patternPiece, { minLength: 0, maxLength: 7 }).map((p) => `/${p.join('')}`);

/** Paths over the same alphabet, already in the matcher's canonical form (no escapes, no dot segments). */
const pathPiece = fc.constantFrom('/', 'a', 'b', 'A', 'B', '1', '12', '-', '.', 'ab', ':', '*', 'x');
const pathText = fc
  .array(pathPiece, { minLength: 0, maxLength: 8 })
  .map((p) => `/${p.join('')}`)
  .filter((p) => patternSubject(p) === p);

/** Both refuse `//` and dot segments differently (URLPattern keeps them; the matcher refuses them as never matching). */
const cleanable = (p: string) => !/\/\/|(?:^|\/)\.\.?(?:\/|$)/.test(p);

/** Ours, or undefined when refused; null when refused on purpose (a dot segment URLPattern would resolve). */
async function ours(pattern: string) {
  try {
    return await compilePattern(pattern, 'p');
  } catch (err) {
    if (err instanceof ConfigError) return err.issues[0]!.message.includes('dot segment') ? null : undefined;
    throw err;
  }
}

function theirs(pattern: string) {
  try {
    return new URLPattern({ pathname: pattern }, { ignoreCase: true });
  } catch {
    return undefined;
  }
}

describe('the pattern syntax, held to URLPattern', () => {
  it('accepts exactly the patterns URLPattern accepts, and matches the same paths with the same groups', async () => {
    let compared = 0;
    let matched = 0;
    await fc.assert(
      fc.asyncProperty(patternText.filter(cleanable), fc.array(pathText, { minLength: 1, maxLength: 12 }), async (pattern, paths) => {
        const mine = await ours(pattern);
        if (mine === null) return;
        const reference = theirs(pattern);
        expect(mine !== undefined, `accepted: ${pattern}`).toBe(reference !== undefined);
        if (!mine || !reference) return;
        for (const path of paths) {
          const got = mine.exec(path);
          const want = reference.exec({ pathname: path })?.pathname.groups;
          compared++;
          expect(got === undefined ? undefined : { ...got }, `${pattern} against ${path}`).toEqual(
            want === undefined ? undefined : { ...want },
          );
          if (got === undefined) continue;
          matched++;
          // What the route index relies on: a matching path starts with the pattern's literal prefix.
          expect(path.toLowerCase().startsWith(mine.prefix), `${pattern}: prefix ${mine.prefix} of ${path}`).toBe(true);
        }
      }),
      { numRuns: 1500, seed: 20261205, examples: [['/*.*?', ['/12.', '/12.3']]] },
    );
    // The property says little unless many paths were compared and a fair share matched.
    expect(compared).toBeGreaterThan(2000);
    expect(matched).toBeGreaterThan(200);
  });

  it('matches hand-picked patterns as URLPattern does', async () => {
    const cases: [string, string, Record<string, string | undefined> | undefined][] = [
      ['/users/:id', '/users/42', { id: '42' }],
      ['/users/:id', '/users/42/', undefined],
      ['/users/:id?', '/users', { id: undefined }],
      ['/files/*', '/files/a/b/c', { 0: 'a/b/c' }],
      ['/files/*', '/files/', { 0: '' }],
      ['/files/*.:ext', '/files/a.b.tar', { 0: 'a.b', ext: 'tar' }],
      ['/posts/:id(\\d+)', '/posts/12', { id: '12' }],
      ['/posts/:id(\\d+)', '/posts/x', undefined],
      ['/docs{/:page}?', '/docs', { page: undefined }],
      ['/docs{/:page}?', '/docs/intro', { page: 'intro' }],
      ['/a/:rest+', '/a/b/c', { rest: 'b/c' }],
      ['/a/:rest*', '/a', { rest: undefined }],
      ['/Users/:id', '/uSERS/Alice', { id: 'Alice' }],
      ['/x/(a|b)/*', '/x/b/y', { 0: 'b', 1: 'y' }],
      ['/lit\\:eral/:x', '/lit:eral/1', { x: '1' }],
    ];
    for (const [pattern, path, want] of cases) {
      const mine = await compilePattern(pattern, 'p');
      const got = mine.exec(path);
      expect(got === undefined ? undefined : { ...got }, `${pattern} ${path}`).toEqual(want);
      const reference = new URLPattern({ pathname: pattern }, { ignoreCase: true }).exec({ pathname: path })?.pathname.groups;
      expect(reference === undefined ? undefined : { ...reference }, `URLPattern: ${pattern} ${path}`).toEqual(want);
    }
  });

  it('matches in time linear in the path where URLPattern backtracks (/:a-:b-:c-:d against 16 KiB of "-")', async () => {
    const hostile = `/${'-'.repeat(16 * 1024)}/`;
    for (const pattern of ['/:a-:b-:c-:d', '/x/*-*-*-*/y', '/{-:a}*/z', '/:x((?:a|a)+)b']) {
      const compiled = await compilePattern(pattern, 'p');
      const started = performance.now();
      expect(compiled.exec(patternSubject(hostile)), pattern).toBeUndefined();
      expect(compiled.exec(`/x/${'a'.repeat(16 * 1024)}`), pattern).toBeUndefined();
      // URLPattern needs seconds for a thousandth of this; RE2 a few milliseconds.
      expect(performance.now() - started, pattern).toBeLessThan(500);
    }
  });

  it('refuses bad patterns with the reason, at the JSON path given', async () => {
    const cases: [string, RegExp][] = [
      ['users/:id', /starts with "\/"/],
      ['https://example.com/users/:id', /matches the path only/],
      ['/a/(', /unbalanced regexp group/],
      ['/a/:x/:x', /"x" is used twice/],
      ['/a/:', /must be followed by a parameter name/],
      ['/a/(?=x)', /cannot start with "\?"/],
      ['/a/(x(y))', /capturing groups are not allowed/],
      ['/a/:x(\\1)', /not RE2 syntax/],
      ['/a?b', /unexpected "\?"/],
      ['/a/{b', /expected "}"/],
      ['/a//b', /could never match/],
      ['/a/../b', /could never match/],
      ['/a/./b', /could never match/],
      ['/a\\', /cannot end with/],
    ];
    for (const [pattern, reason] of cases) {
      const err = await compilePattern(pattern, 'routes[3].match[0].pattern[1]').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, pattern).toBeInstanceOf(ConfigError);
      const issue = (err as ConfigError).issues[0]!;
      expect(issue.path, pattern).toBe('routes[3].match[0].pattern[1]');
      expect(issue.message, pattern).toMatch(reason);
      expect(issue.message, pattern).toContain(JSON.stringify(pattern));
    }
  });

  it('uses the global URLPattern where the platform has one', async () => {
    const g = globalThis as { URLPattern?: unknown };
    const before = g.URLPattern;
    class Sentinel {}
    g.URLPattern = Sentinel;
    try {
      expect(await urlPatternClass()).toBe(Sentinel);
    } finally {
      if (before === undefined) delete g.URLPattern;
      else g.URLPattern = before;
    }
  });
});
