import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'encode', include: ['test/**/*.test.ts'] },
});
