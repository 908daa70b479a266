import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, silentLogger, type ConfigIssue } from '@ferry/core';
import { CADDY_HANDLERS, CADDY_MATCHERS, caddyObject, caddyPlaces, configSchema, keysAt, serverSchema } from '@ferry/core/internal';
import { distributionRegistry } from '../src/modules.js';

/**
 * The list of Caddy's names (packages/core/src/caddy_names.ts) held to Ferry's schemas, so that
 * "Caddy's … option is not supported by Ferry" stays true as Ferry grows; and the messages it
 * makes for the proxy and encode modules, through the distribution's registry.
 */

const registry = distributionRegistry();

function schemaOf(scope: string): unknown {
  if (scope === 'config') return configSchema;
  if (scope === 'server') return serverSchema;
  return registry.get(scope)?.config;
}

/** A location (`health_checks.active`, `upstreams[]`, `*`) as the path of a zod issue there. */
function pathOf(location: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of location.split('.').filter(Boolean)) {
    const [key, ...lists] = part.split('[]');
    if (key === '*') out.push('any-name');
    else if (key) out.push(key);
    for (let i = 0; i < lists.length; i++) out.push(0);
  }
  return out;
}

/** The parent location and the last option name of a location (`transport.tls` → `transport`, `tls`). */
function parentOf(location: string): [string, string] {
  const dot = location.lastIndexOf('.');
  const last = location.slice(dot + 1).replace(/\[\]$/, '');
  return [dot < 0 ? '' : location.slice(0, dot), last];
}

describe("Caddy's names, held to Ferry's schemas", () => {
  it('every place it lists exists in Ferry, or hangs off a Caddy option that Ferry lacks', () => {
    const checked: string[] = [];
    for (const [scope, location] of caddyPlaces()) {
      const schema = schemaOf(scope);
      if (!schema) continue; // a Caddy module Ferry does not have (yet): nothing to hold it to
      checked.push(`${scope} ${location}`);
      if (keysAt(schema, pathOf(location)).location === location) continue;
      // Not in Ferry's schema: then its parent is, and lacks it — and Caddy's parent lists it.
      const [parent, key] = parentOf(location);
      const ferry = keysAt(schema, pathOf(parent));
      expect(ferry.location, `${scope} ${location}: parent ${parent} is not in Ferry's schema`).toBe(parent);
      expect(ferry.keys, `${scope} ${location}`).toBeDefined();
      expect(ferry.keys, `${scope} ${location}`).not.toContain(key);
      expect(caddyObject(scope, parent)?.keys, `${scope} ${location}`).toContain(key);
    }
    expect(checked).toContain('http.handlers.reverse_proxy health_checks.active');
    expect(checked).toContain('server tls_connection_policies[].certificate_selection');
  });

  it("every standard module Ferry shares with Caddy, and that has options, has Caddy's option names", () => {
    for (const mod of registry.modules()) {
      const caddyNames = mod.kind === 'handler' ? CADDY_HANDLERS : mod.kind === 'matcher' ? CADDY_MATCHERS : [];
      if (!caddyNames.includes(mod.name)) continue;
      const top = keysAt(mod.config, []);
      const map = keysAt(mod.config, ['any-name']);
      if (top.keys?.length) expect(caddyObject(mod.id, ''), mod.id).toBeDefined();
      else if (map.keys?.length) expect(caddyObject(mod.id, '*'), mod.id).toBeDefined();
    }
  });
});

const HANDLE = 'apps.http.servers.srv0.routes[0].handle[0]';

async function issuesOf(handler: Record<string, unknown>): Promise<ConfigIssue[]> {
  const json = { apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [{ handle: [handler] }] } } } } };
  const err = await loadConfig(json, { registry, logger: silentLogger() }).then(
    async (app) => {
      await app.stop(0);
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues;
}

const byPath = (issues: ConfigIssue[]) => Object.fromEntries(issues.map((i) => [i.path, i.message]));

describe('reverse_proxy and encode: Caddy options Ferry lacks, and typos', () => {
  it("reverse_proxy: Caddy's options at every level say so; typos get did you mean", async () => {
    const issues = byPath(
      await issuesOf({
        handler: 'reverse_proxy',
        upstreams: [{ dial: '127.0.0.1:1', dail: 'x' }],
        dynamic_upstreams: { source: 'a' },
        load_balancing: { retry_match: [], retires: 2 },
        health_checks: { active: { method: 'HEAD' } },
        transport: { protocol: 'http', read_buffer_size: 4096 },
        flush_intervall: -1,
      }),
    );
    const caddy = (name: string) =>
      `Caddy's reverse_proxy option "${name}" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)`;
    expect(issues).toEqual({
      [`${HANDLE}.upstreams[0].dail`]: 'unknown option for http.handlers.reverse_proxy; did you mean "dial"?',
      [`${HANDLE}.dynamic_upstreams`]: caddy('dynamic_upstreams'),
      [`${HANDLE}.load_balancing.retry_match`]: caddy('load_balancing.retry_match'),
      [`${HANDLE}.load_balancing.retires`]: 'unknown option for http.handlers.reverse_proxy; did you mean "retries"?',
      [`${HANDLE}.health_checks.active.method`]: caddy('health_checks.active.method'),
      [`${HANDLE}.transport.read_buffer_size`]: caddy('transport.read_buffer_size'),
      [`${HANDLE}.flush_intervall`]: 'unknown option for http.handlers.reverse_proxy; did you mean "flush_interval"?',
    });
  });

  it("encode: zstd's checksum is Caddy's; min_length is a typo of minimum_length", async () => {
    const issues = byPath(await issuesOf({ handler: 'encode', encodings: { gzip: {}, zstd: { checksum: true } }, min_length: 10 }));
    expect(issues).toEqual({
      [`${HANDLE}.encodings.zstd.checksum`]:
        'Caddy\'s encode option "encodings.zstd.checksum" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)',
      [`${HANDLE}.min_length`]: 'unknown option for http.handlers.encode; did you mean "minimum_length"?',
    });
  });
});
