import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'sse', include: ['test/**/*.test.ts'] },
});
