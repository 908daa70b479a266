import { describe, expect, it } from 'vitest';
import { closestNames, didYouMean, editDistance } from '../src/suggest.js';

describe('editDistance (Damerau–Levenshtein, optimal string alignment)', () => {
  it('counts insertions, deletions, substitutions, and an adjacent transposition as one edit each', () => {
    expect(editDistance('route', 'routes')).toBe(1);
    expect(editDistance('bodyy', 'body')).toBe(1);
    expect(editDistance('staus', 'status')).toBe(1);
    expect(editDistance('hadnle', 'handle')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('stops at the limit: anything farther is limit + 1', () => {
    expect(editDistance('abcdef', 'uvwxyz', 2)).toBe(3);
    expect(editDistance('a', 'abcdefgh', 2)).toBe(3);
  });
});

describe('closestNames', () => {
  const staticResponse = ['status_code', 'headers', 'body', 'close', 'abort'];

  it('suggests the known name one typo away', () => {
    expect(closestNames('route', ['routes', 'errors'])).toEqual(['routes']);
    expect(closestNames('methd', ['method', 'path', 'host'])).toEqual(['method']);
  });

  it('takes camelCase, dashes and capitals for the snake_case name they spell', () => {
    expect(closestNames('statusCode', staticResponse)).toEqual(['status_code']);
    expect(closestNames('Status-Code', staticResponse)).toEqual(['status_code']);
  });

  it('takes a name that lacks a _word of a known one for that one', () => {
    expect(closestNames('status', staticResponse)).toEqual(['status_code']);
    expect(closestNames('minimum', ['encodings', 'prefer', 'minimum_length', 'match'])).toEqual(['minimum_length']);
  });

  it('lists ties, at most three', () => {
    expect(closestNames('timeout', ['dial_timeout', 'response_header_timeout', 'versions'])).toEqual([
      'dial_timeout',
      'response_header_timeout',
    ]);
    expect(closestNames('ab', ['a', 'b', 'abc', 'ab_x', 'xab']).length).toBeLessThanOrEqual(3);
  });

  it('suggests nothing when nothing is close, short names included', () => {
    expect(closestNames('colour', staticResponse)).toEqual([]);
    expect(closestNames('x', ['y', 'ab'])).toEqual([]);
    expect(closestNames('', staticResponse)).toEqual([]);
  });

  it('never suggests or is asked about prototype names', () => {
    for (const key of ['__proto__', 'constructor', 'prototype'])
      expect(closestNames(key, ['constructors', '__proto', 'prototypes', 'proto'])).toEqual([]);
    expect(closestNames('constructr', ['constructor', 'prototype', '__proto__'])).toEqual([]);
    expect(closestNames('__proto_', ['__proto__'])).toEqual([]);
  });

  it('is bounded on a huge name: a 100 KB key costs nothing and gets no suggestion', () => {
    const huge = 'a'.repeat(100_000);
    // Known names as long as the key and nearly equal to it: without the cap, one distance is a 10^10-cell table.
    const known = [`${'a'.repeat(99_999)}b`, 'a'.repeat(99_998), ...Array.from({ length: 1000 }, (_, i) => `option_${i}`)];
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(closestNames(huge, known)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('is bounded on huge known names too', () => {
    const started = performance.now();
    expect(closestNames('abc', ['b'.repeat(100_000), 'abd'])).toEqual(['abd']);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('didYouMean', () => {
  it('quotes one name, or joins several with "or"', () => {
    expect(didYouMean('route', ['routes'])).toBe('did you mean "routes"?');
    expect(didYouMean('timeout', ['dial_timeout', 'response_header_timeout'])).toBe(
      'did you mean "dial_timeout" or "response_header_timeout"?',
    );
    expect(didYouMean('zzz', ['routes'])).toBe('');
  });
});
