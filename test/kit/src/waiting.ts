/**
 * Waiting with a deadline, so a test that would hang fails instead and says what it waited for:
 * `within` for a promise, `eventually` for state that has no event to await.
 */

/** Rejects after `ms` with a message naming what was awaited. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms}ms`)), ms))),
  ]);
}

/**
 * Resolves once `test()` holds, checked every 5 ms: only for state that settles on the far side
 * of a socket (a server-side counter, a health checker's verdict) with no event to await. `what`
 * names the condition in the failure; a function is called only then, so it can report the state.
 */
export async function eventually(
  test: () => boolean | Promise<boolean>,
  withinMs = 2000,
  what: string | (() => string) = () => test.toString(),
): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!(await test())) {
    if (performance.now() > deadline) {
      throw new Error(`condition not met within ${withinMs}ms: ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
