import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/duration.js';
import { parseDuration } from '../src/index.js';

describe('formatDuration', () => {
  it('writes the shortest Caddy duration, which parses back to the same milliseconds', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [250, '250ms'],
      [10_000, '10s'],
      [60_000, '1m'],
      [90_000, '90s'],
      [300_000, '5m'],
      [7_200_000, '2h'],
    ];
    for (const [ms, text] of cases) {
      expect(formatDuration(ms)).toBe(text);
      expect(parseDuration(text)).toBe(ms);
    }
  });
});
