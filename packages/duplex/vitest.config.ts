import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'duplex', include: ['test/**/*.test.ts'] },
});
