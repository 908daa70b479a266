import { describe, expect, it } from 'vitest';
import { ConfigError, coreModules, defineModule, loadConfig, Registry, silentLogger, z } from '../src/index.js';
import { send } from './helpers/http.js';

/** A handler holding kept state `key`: answers the state's serial number. */
function keeper() {
  const log = { made: 0, disposed: [] as number[] };
  const mod = defineModule({
    id: 'http.handlers.test_keeper',
    config: z.strictObject({ key: z.string() }),
    provision({ key }, ctx) {
      const state = ctx.keep(
        key,
        () => ({ serial: ++log.made }),
        (s) => void log.disposed.push(s.serial),
      );
      return async (_req, res) => {
        res.end(String(state.serial));
      };
    },
  });
  return { log, registry: new Registry([...coreModules, mod]) };
}

const config = (handle: unknown[]) => ({ apps: { http: { servers: { s: { listen: ['127.0.0.1:0'], routes: [{ handle }] } } } } });

describe('ctx.keep: state that outlives reloads', () => {
  it('is made once, handed to the next configs, and disposed when no config holds it', async () => {
    const { log, registry } = keeper();
    const app = await loadConfig(config([{ handler: 'test_keeper', key: 'a' }]), { registry, logger: silentLogger() });
    await app.start();
    const url = app.servers[0]!.url;
    expect((await send(url, '/')).body).toBe('1');

    // Reloaded twice (the second time held by two handlers): the same state.
    await app.reload(
      config([
        { handler: 'headers', response: { set: { x: ['1'] } } },
        { handler: 'test_keeper', key: 'a' },
      ]),
    );
    await app.reload(config([{ handler: 'subroute', routes: [{ handle: [{ handler: 'test_keeper', key: 'a' }] }] }]));
    expect((await send(url, '/')).body).toBe('1');

    // A config that fails to provision: the state it would have made is made and let go at once;
    // the one in use stays.
    const bad = config([{ handler: 'test_keeper', key: 'b' }, { handler: 'test_keeper', key: 'a' }, { handler: 'nope' }]);
    await expect(app.reload(bad)).rejects.toBeInstanceOf(ConfigError);
    expect(log).toEqual({ made: 2, disposed: [2] });
    expect(app.options.kept!.keys()).toEqual(['a']);

    // No longer asked for: disposed once the config holding it is cleaned up (nothing in flight).
    await app.reload(config([{ handler: 'test_keeper', key: 'c' }]));
    expect((await send(url, '/')).body).toBe('3');
    await app.stop(0);
    expect(log.disposed.sort()).toEqual([1, 2, 3]);
    expect(app.options.kept!.keys()).toEqual([]);
  });
});
