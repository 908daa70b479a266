import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/ferry', 'test', 'test/e2e'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
