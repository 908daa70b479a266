import { afterEach, beforeEach } from 'vitest';

type Cleanup = () => unknown;
const cleanups: Cleanup[] = [];

// Importing this module registers one hook per test file: everything deferred runs after each test.
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // Best effort: a socket the test already destroyed may complain.
    }
  }
});

/** Runs `fn` after the current test, in reverse order of registration. */
export function defer(fn: Cleanup): void {
  cleanups.push(fn);
}

/** A promise with its resolvers outside, for handlers the test controls. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Errors that escape everyone (unhandled rejections, uncaught exceptions) while each test of the
 * file runs, emptied before each: a test expects the list empty when nothing may go unhandled.
 */
export function escapedErrors(): unknown[] {
  const escaped: unknown[] = [];
  const onEscape = (err: unknown) => escaped.push(err);
  beforeEach(() => {
    escaped.length = 0;
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
  });
  afterEach(() => {
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
  });
  return escaped;
}
