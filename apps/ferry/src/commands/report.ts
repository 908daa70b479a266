import { formatIssue, type ConfigError, type ConfigIssue } from '@ferry/core';

/** Prints each problem on stderr with its JSON path: `error: apps.http.servers.srv0.listen: …`. */
export function printIssues(kind: 'error' | 'warning', issues: readonly ConfigIssue[]): void {
  for (const i of issues) process.stderr.write(`${kind}: ${formatIssue(i)}\n`);
}

/** Prints every problem of a config that did not load, then how many: nothing was started. */
export function printConfigError(err: ConfigError): void {
  printIssues('error', err.issues);
  process.stderr.write(`${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}: nothing started\n`);
}
