import { defineConfig } from 'vitest/config';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, `N passed, N failed, N skipped`, which any CI log reader
 * understands, after vitest's own summary.
 */
const plainSummary: Reporter = {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  },
};

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/ferry', 'test', 'test/e2e', 'test/redis', 'test/scale'],
    // Projects do not inherit test options from here: each project's config sets its timeouts.
    reporters: ['default', plainSummary],
  },
});
