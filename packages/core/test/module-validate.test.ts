import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  coreModules,
  defineModule,
  DONE,
  loadConfig,
  moduleFactory,
  Registry,
  silentLogger,
  z,
  type ConfigIssue,
} from '../src/index.js';
import { send, useServers } from './helpers/http.js';
import { defer } from '@ferry/test-kit/lifecycle';

/**
 * A module's `validate`, sync or async, is binding: its messages refuse the config at the
 * module's JSON path, through the config loader and through createServer alike.
 */

const serve = useServers();

/** `http.handlers.<name>`: answers with its `word`; `check` is its validate(). */
function wordModule(name: string, check: (config: { word: string }) => unknown) {
  return defineModule({
    id: `http.handlers.${name}`,
    config: z.object({ word: z.string() }),
    validate: check as (config: { word: string }) => undefined,
    provision: (config) => (_req, res) => {
      res.end(config.word);
      return DONE;
    },
  });
}

/** An async check, as a module that looks something up before it accepts a config would write it. */
const asyncProblems = wordModule('async_problems', async ({ word }) => {
  await new Promise((r) => setImmediate(r));
  return word === 'bad' ? [`word "${word}" is not allowed`, 'and a second problem'] : undefined;
});
const asyncRejects = wordModule('async_rejects', async ({ word }) => {
  await new Promise((r) => setImmediate(r));
  if (word === 'bad') throw new Error(`word "${word}" refused by a lookup`);
});
const returnsBoolean = wordModule('returns_boolean', ({ word }) => word !== 'bad');

const registry = new Registry([...coreModules, asyncProblems, asyncRejects, returnsBoolean]);
const HANDLE = 'apps.http.servers.srv0.routes[0].handle[0]';

function config(handler: Record<string, unknown>) {
  return { apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [{ handle: [handler] }] } } } } };
}

async function issuesOf(json: unknown): Promise<ConfigIssue[]> {
  const err = await loadConfig(json, { registry, logger: silentLogger() }).then(
    (app) => {
      defer(() => app.stop(0));
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues;
}

describe('an async validate() is awaited', () => {
  it('one that resolves with problems refuses the config, each problem at the module', async () => {
    expect(await issuesOf(config({ handler: 'async_problems', word: 'bad' }))).toEqual([
      { path: HANDLE, message: 'word "bad" is not allowed' },
      { path: HANDLE, message: 'and a second problem' },
    ]);
  });

  it('one that rejects refuses the config with its message', async () => {
    expect(await issuesOf(config({ handler: 'async_rejects', word: 'bad' }))).toEqual([
      { path: HANDLE, message: 'word "bad" refused by a lookup' },
    ]);
  });

  it('one that resolves with nothing lets the config load and serve', async () => {
    const app = await loadConfig(config({ handler: 'async_problems', word: 'good' }), { registry, logger: silentLogger() });
    defer(() => app.stop(0));
    await app.start();
    expect((await send(app.servers[0]!.url, '/')).body).toBe('good');
  });

  it('is awaited for code-first servers too (createServer)', async () => {
    const err = await serve({ routes: [{ handle: [moduleFactory(asyncRejects)({ word: 'bad' })] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([{ path: 'routes[0].handle[0]', message: 'word "bad" refused by a lookup' }]);
  });

  it('refuses a config on reload, and the old one keeps serving', async () => {
    const app = await loadConfig(config({ handler: 'async_problems', word: 'good' }), { registry, logger: silentLogger() });
    defer(() => app.stop(0));
    await app.start();
    const err = await app.reload(config({ handler: 'async_problems', word: 'bad' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((await send(app.servers[0]!.url, '/')).body).toBe('good');
  });
});

describe('a validate() that returns something it should not', () => {
  it('a boolean is reported as a mistake of the module, not taken for a pass', async () => {
    expect(await issuesOf(config({ handler: 'returns_boolean', word: 'fine' }))).toEqual([
      {
        path: HANDLE,
        message:
          'module http.handlers.returns_boolean: validate() must return nothing, a message or a list of messages (it returned boolean)',
      },
    ]);
  });
});
