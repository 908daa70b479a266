import { defineProject } from 'vitest/config';

// Worker processes (`ferry run --workers N`): real processes of the built CLI, real sockets.
export default defineProject({
  test: { name: 'scale', include: ['**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
});
