/** encode in config form: Caddy's option names through loadConfig, and invalid options reported at their JSON paths. */
import { describe, expect, it } from 'vitest';
import { ConfigError, coreModules, createServer, loadConfig, Registry, silentLogger, type ConfigIssue } from '@ferry/core';
import { encode, encodeModule, zstdAvailable } from '../src/index.js';
import { decode, defer, h1Get } from './helpers/net.js';

const registry = new Registry([...coreModules, encodeModule]);
const HANDLE = 'apps.http.servers.srv0.routes[0].handle[0]';

/** A one-server config: `encodeOptions` in front of a static text `body`. */
function config(encodeOptions: Record<string, unknown>, body = 'x'.repeat(150)) {
  return {
    admin: { disabled: true },
    apps: {
      http: {
        servers: {
          srv0: {
            listen: ['127.0.0.1:0'],
            routes: [
              {
                handle: [
                  { handler: 'encode', ...encodeOptions },
                  { handler: 'static_response', body },
                ],
              },
            ],
          },
        },
      },
    },
  };
}

async function start(json: unknown) {
  const app = await loadConfig(json, { registry, logger: silentLogger() });
  defer(() => app.stop(0));
  await app.start();
  return app.servers[0]!;
}

/** The issues of a config that must not load. */
async function issuesOf(json: unknown): Promise<ConfigIssue[]> {
  const err = await loadConfig(json, { registry, logger: silentLogger() }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues;
}

describe('encode from config', () => {
  const caddyStyle = { encodings: { gzip: { level: 9 } }, minimum_length: 100, prefer: ['gzip'] };

  it('{"handler":"encode","encodings":{"gzip":{"level":9}},"minimum_length":100,"prefer":["gzip"]} compresses a 150-byte body with gzip at level 9', async () => {
    const server = await start(config(caddyStyle));
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
    // RFC 1952 §2.3.1: XFL = 2 marks "compressor used maximum compression" (zlib: level 9).
    expect(reply.body[8]).toBe(2);
    expect(decode(reply.body, 'gzip').toString()).toBe('x'.repeat(150));
  });

  it('minimum_length from config leaves a shorter body unencoded', async () => {
    const server = await start(config(caddyStyle, 'y'.repeat(99)));
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'gzip' } });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.toString()).toBe('y'.repeat(99));
  });

  it('match from config, in Caddy’s form, decides what is compressed', async () => {
    const json = config({ encodings: { gzip: {} }, minimum_length: 1, match: { headers: { 'Content-Type': ['application/json*'] } } });
    const server = await start(json);
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'gzip' } });
    // static_response says text/plain, which this match does not name.
    expect(reply.headers['content-encoding']).toBeUndefined();
  });

  // Runs only where node:zlib has zstd (22.15+, 23.8+): CI's second pass on Node 24 covers it.
  it.runIf(zstdAvailable)('zstd at Caddy’s named level "best" is served where this Node has zstd', async () => {
    const server = await start(config({ encodings: { zstd: { level: 'best' }, gzip: {} }, minimum_length: 100 }));
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'gzip, zstd' } });
    expect(reply.headers['content-encoding']).toBe('zstd');
    expect(decode(reply.body, 'zstd').toString()).toBe('x'.repeat(150));
  });
});

describe('invalid encode options', () => {
  it('an unknown option is named at its JSON path', async () => {
    const issues = await issuesOf(config({ encodings: { gzip: {} }, min_length: 100 }));
    expect(issues).toEqual([{ path: `${HANDLE}.min_length`, message: expect.stringMatching(/unknown option/) }]);
  });

  it('an unknown encoding is named at its JSON path', async () => {
    const issues = await issuesOf(config({ encodings: { deflate: {} } }));
    expect(issues).toEqual([{ path: `${HANDLE}.encodings.deflate`, message: expect.stringMatching(/unknown option/) }]);
  });

  it('a gzip level out of range is reported at encodings.gzip.level', async () => {
    const issues = await issuesOf(config({ encodings: { gzip: { level: 10 } } }));
    expect(issues).toEqual([{ path: `${HANDLE}.encodings.gzip.level`, message: expect.stringMatching(/9/) }]);
  });

  it('a br level out of range is reported at encodings.br.level', async () => {
    const issues = await issuesOf(config({ encodings: { br: { level: 12 } } }));
    expect(issues).toEqual([{ path: `${HANDLE}.encodings.br.level`, message: expect.stringMatching(/11/) }]);
  });

  it('prefer naming an encoding that is not configured is reported at that entry', async () => {
    const issues = await issuesOf(config({ encodings: { gzip: {} }, prefer: ['gzip', 'br'] }));
    expect(issues).toEqual([{ path: `${HANDLE}.prefer[1]`, message: 'prefer names "br", which is not in encodings' }]);
  });

  it('prefer naming an encoding twice is reported at the repeat', async () => {
    const issues = await issuesOf(config({ encodings: { gzip: {}, br: {} }, prefer: ['br', 'gzip', 'br'] }));
    expect(issues).toEqual([{ path: `${HANDLE}.prefer[2]`, message: 'prefer names "br" twice' }]);
  });

  it('a negative minimum_length is reported at its path', async () => {
    const issues = await issuesOf(config({ minimum_length: -1 }));
    expect(issues).toEqual([{ path: `${HANDLE}.minimum_length`, message: expect.any(String) }]);
  });

  it('every problem is reported at once', async () => {
    const issues = await issuesOf(config({ encodings: { gzip: { level: 10 } }, prefer: ['br'], min_length: 1 }));
    expect(issues.map((i) => i.path).sort()).toEqual(
      [`${HANDLE}.encodings.gzip.level`, `${HANDLE}.min_length`, `${HANDLE}.prefer[0]`].sort(),
    );
  });
});

// zstd is in node:zlib from Node 22.15 / 23.8 only. Where it is missing, `encode zstd gzip` (Caddy's
// most common encode config) starts without zstd and says so once, at the zstd entry. A config whose
// only encoding is zstd would compress nothing at all: that one is refused, with the reason.
describe.runIf(!zstdAvailable)('zstd where this Node has none', () => {
  const mixed = { encodings: { zstd: {}, gzip: {} }, minimum_length: 100 };

  it('a config listing zstd and gzip loads, with one warning at encodings.zstd naming the Node version', async () => {
    const app = await loadConfig(config(mixed), { registry, logger: silentLogger() });
    defer(() => app.stop(0));
    expect(app.warnings).toHaveLength(1);
    expect(app.warnings[0]!.path).toBe(`${HANDLE}.encodings.zstd`);
    expect(app.warnings[0]!.message).toContain(`Node ${process.versions.node}`);
    expect(app.warnings[0]!.message).toMatch(/22\.15/);
  });

  it('Accept-Encoding: zstd, gzip gets gzip from a config listing zstd and gzip', async () => {
    const server = await start(config(mixed));
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'zstd, gzip' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(decode(reply.body, 'gzip').toString()).toBe('x'.repeat(150));
  });

  it('prefer naming zstd first still negotiates gzip: zstd is left out of prefer too', async () => {
    const server = await start(config({ ...mixed, prefer: ['zstd', 'gzip'] }));
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'zstd, gzip' } });
    expect(reply.headers['content-encoding']).toBe('gzip');
  });

  it('Accept-Encoding: zstd alone gets the body unencoded', async () => {
    const server = await start(config(mixed));
    const reply = await h1Get(server.url, '/', { headers: { 'accept-encoding': 'zstd' } });
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.toString()).toBe('x'.repeat(150));
  });

  it('a config whose only encoding is zstd is refused with an error naming the running Node version', async () => {
    const issues = await issuesOf(config({ encodings: { zstd: {} } }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`${HANDLE}.encodings.zstd`);
    expect(issues[0]!.message).toContain(`Node ${process.versions.node}`);
    expect(issues[0]!.message).toMatch(/22\.15/);
  });

  it('a code-first server asking for zstd and gzip listens, with the warning on server.warnings', async () => {
    const server = createServer({ listen: '127.0.0.1:0', logger: false, handler: [encode({ encodings: { zstd: {}, gzip: {} } })] });
    defer(() => server.close({ gracePeriod: 0 }));
    await server.listen();
    expect(server.warnings).toEqual([
      { path: 'handler[0].encodings.zstd', message: expect.stringContaining(`Node ${process.versions.node}`) },
    ]);
  });

  it('a code-first server asking for zstd alone fails to listen with a ConfigError', async () => {
    const server = createServer({ listen: '127.0.0.1:0', logger: false, handler: [encode({ encodings: { zstd: {} } })] });
    defer(() => server.close({ gracePeriod: 0 }));
    const err = await server.listen().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`Node ${process.versions.node}`);
  });
});

// CI's pass on Node 24 covers this side.
describe.runIf(zstdAvailable)('zstd where this Node has it', () => {
  it('a config listing zstd and gzip loads without a warning', async () => {
    const app = await loadConfig(config({ encodings: { zstd: {}, gzip: {} } }), { registry, logger: silentLogger() });
    defer(() => app.stop(0));
    expect(app.warnings).toEqual([]);
  });
});
