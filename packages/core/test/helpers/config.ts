/** Loading configs in tests: every app loaded is stopped after the test. */
import { expect } from 'vitest';
import { defer } from '@ferry/test-kit/lifecycle';
import { ConfigError, loadConfig, silentLogger, type ConfigIssue, type FerryApp } from '../../src/index.js';

/** Loads `json` (nothing logged); the app is stopped after the test. */
export async function load(json: unknown): Promise<FerryApp> {
  const app = await loadConfig(json, { logger: silentLogger() });
  defer(() => app.stop(0));
  return app;
}

/** The issues of a config that must not load (one that does is stopped, and the test fails). */
export async function issuesOf(json: unknown): Promise<ConfigIssue[]> {
  const err = await load(json).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues;
}
