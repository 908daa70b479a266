import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'integration',
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**', 'redis/**', 'scale/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
