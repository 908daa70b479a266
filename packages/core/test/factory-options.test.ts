import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createServer, type FerryServer, staticResponse } from '../src/index.js';

/** Options given to a module factory in code are the module's config, own keys only. */
describe('code-first options', () => {
  let server: FerryServer | undefined;
  afterEach(() => server?.close({ gracePeriod: 0 }));

  it('keep an own __proto__ key (as JSON.parse makes it) an unknown option, never a prototype to inherit options from', async () => {
    const hostile = JSON.parse('{"__proto__": {"body": "injected", "status_code": 299}}') as Record<string, unknown>;
    server = createServer({ listen: '127.0.0.1:0', handler: [staticResponse(hostile)] });
    const err = await server.listen().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.path)).toEqual([expect.stringMatching(/\.__proto__$/)]);
    server = undefined;
  });
});
