import { z } from 'zod';
import { joinPath } from '../errors.js';
import { defineModule, moduleFactory } from '../module.js';
import type { MatcherInput, MatcherSetInput } from '../provision.js';
import type { Matcher } from '../types.js';

/** `http.matchers.not`: true when none of its matcher sets match (the sets are OR'ed, then negated). */
export const notMatcher = defineModule({
  id: 'http.matchers.not',
  description: 'Negates its matcher sets: matches when none of them match.',
  config: z
    .array(z.unknown().meta({ title: 'matcherSet' }))
    .min(1)
    .describe(
      'Matcher sets (objects of matchers, AND-ed), OR-ed, then negated; an empty set `{}` matches everything, so its negation nothing.',
    ),
  async provision(sets, ctx): Promise<Matcher> {
    const compiled: Matcher[] = [];
    let always = false;
    for (let i = 0; i < sets.length; i++) {
      const m = await ctx.compileMatcherSet(sets[i] as MatcherSetInput, joinPath(ctx.path, i));
      if (m) compiled.push(m);
      else always = true; // an empty set matches everything, so its negation matches nothing
    }
    if (always) return () => false;
    return (req) => !compiled.some((m) => m(req));
  },
});

/** `not(path('/a'), [method('GET'), host('x')])`: each argument is one matcher set. */
export const not = moduleFactory(notMatcher, (...sets: (MatcherInput | readonly MatcherInput[])[]) => sets);
