import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, configFile, ferry, type Result } from './cli.js';

/**
 * A plugin that cannot be loaded says why, through the real CLI: a missing plugin file is told
 * apart from a module the plugin imports that is missing, and a syntax error or an error thrown
 * while loading is shown with its message and where it is.
 */

/** Plugin files in a fresh directory outside the repository, where `@ferry/core` does not resolve. */
const dir = mkdtempSync(join(tmpdir(), 'ferry-plugins-'));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const importsCore = write(
  'imports-core.mjs',
  "import { defineModule, z } from '@ferry/core';\nexport default defineModule({ id: 'http.handlers.x', config: z.object({}), provision: () => (q, s, n) => n(q, s) });\n",
);
const importsMissingFile = write('imports-missing-file.mjs', "import helper from './helper.mjs';\nexport default helper;\n");
const syntaxError = write('syntax-error.mjs', "export default {\n  id: 'http.handlers.x',,\n};\n");
const importsSyntaxError = write('imports-syntax-error.mjs', "import m from './syntax-error.mjs';\nexport default m;\n");
const throws = write('throws.mjs', "throw new TypeError('no API key set');\n");
mkdirSync(join(dir, 'a-directory'));

/** `ferry ARGS` run in `cwd`, to completion. */
async function ferryIn(cwd: string, args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, FERRY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

async function refused(plugin: string): Promise<string> {
  const r = await ferry(['list-modules', '--plugin', plugin]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe('a plugin whose own import fails shows that import, not "file not found"', () => {
  it('ferry run --plugin ./x.mjs, where x.mjs imports @ferry/core that does not resolve from there', async () => {
    const config = configFile({ admin: { disabled: true }, apps: { http: { servers: { s: { listen: ['127.0.0.1:0'] } } } } });
    const r = await ferryIn(dir, ['run', '--config', config, '--plugin', './imports-core.mjs']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: plugin ./imports-core.mjs: a module it imports cannot be found: Cannot find package '@ferry/core' imported from ${importsCore} (a plugin resolves "@ferry/core" from its own directory up: install it in the plugin's project, or put the plugin in the project where Ferry is installed)\n`,
    );
    expect(r.stderr).not.toMatch(/file not found/);
  });

  it('a missing file the plugin imports is named, with the plugin that imports it', async () => {
    expect(await refused(importsMissingFile)).toBe(
      `error: plugin ${importsMissingFile}: a module it imports cannot be found: Cannot find module '${join(dir, 'helper.mjs')}' imported from ${importsMissingFile}\n`,
    );
  });

  it('a missing plugin file is "file not found", with the path it looked at', async () => {
    const r = await ferryIn(dir, ['validate', '--config', 'unused.json', '--plugin', './no-such-plugin.mjs']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: plugin ./no-such-plugin.mjs: file not found: ${join(dir, 'no-such-plugin.mjs')}\n`);
  });

  it('a directory is not a plugin file', async () => {
    expect(await refused(join(dir, 'a-directory'))).toMatch(/a-directory is a directory: give the plugin's file/);
  });
});

describe('a plugin that fails while loading shows its error', () => {
  it('a syntax error, with its message and line', async () => {
    expect(await refused(syntaxError)).toBe(`error: plugin ${syntaxError}: syntax error: Unexpected token ',' (at ${syntaxError}:2)\n`);
  });

  it('a syntax error in a file the plugin imports says so', async () => {
    expect(await refused(importsSyntaxError)).toBe(
      `error: plugin ${importsSyntaxError}: syntax error: Unexpected token ',' (in a file the plugin imports)\n`,
    );
  });

  it('an error it throws, with its name, message and the line that threw', async () => {
    expect(await refused(throws)).toBe(`error: plugin ${throws}: failed to load: TypeError: no API key set (at ${throws}:1:7)\n`);
  });
});
