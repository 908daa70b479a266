import { ConfigError, readConfigFile, type ConfigIssue } from '@ferry/core';
import type { Command } from './args.js';
import { printIssues } from './report.js';

/** `ferry reload --config FILE`: posts the file to a running ferry's admin API (`POST /load`). */
export const reload: Command = async ({ flags }) => {
  const { config, address = 'localhost:2019' } = flags;
  if (!config) {
    process.stderr.write('ferry reload: --config FILE is required\n');
    return 2;
  }
  let json: unknown;
  try {
    json = await readConfigFile(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      printIssues('error', err.issues);
      return 1;
    }
    throw err;
  }
  const base = /^[a-z]+:\/\//.test(address) ? address : `http://${address}`;
  let res: Response;
  try {
    res = await fetch(new URL('/load', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });
  } catch (err) {
    process.stderr.write(`error: cannot reach the admin API at ${base}: ${(err as Error).cause ?? (err as Error).message}\n`);
    return 1;
  }
  if (res.ok) {
    process.stdout.write('config loaded\n');
    return 0;
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: string; issues?: ConfigIssue[] };
  printIssues('error', answer.issues ?? []);
  process.stderr.write(`error: ${answer.error ?? res.statusText} (the running config is unchanged)\n`);
  return 1;
};
