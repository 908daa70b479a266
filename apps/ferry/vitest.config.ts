import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'ferry', include: ['test/**/*.test.ts'] },
});
