import { describe, expect, it } from 'vitest';
import { ConfigError, coreModules, defineModule, DONE, loadConfig, Registry, silentLogger, z, type ConfigIssue } from '../src/index.js';
import { issuesOf, load } from './helpers/config.js';

/**
 * What a config error says about a name Ferry does not know, through the real loader: a Caddy
 * option or module Ferry lacks says so, a typo gets "did you mean", anything else lists what is
 * known there. Every message sits at the JSON path of the name.
 */

const SRV = 'apps.http.servers.srv0';

function config(server: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return {
    admin: { disabled: true },
    ...rest,
    apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], ...server } } }, ...(rest.apps as object) },
  };
}

const handle = (...handlers: unknown[]) => config({ routes: [{ handle: handlers }] });

/** The one issue at `path` (there must be exactly one there). */
function at(issues: ConfigIssue[], path: string): string {
  const found = issues.filter((i) => i.path === path);
  expect(found, JSON.stringify(issues, null, 2)).toHaveLength(1);
  return found[0]!.message;
}

describe('a typo gets "did you mean" from the schema', () => {
  it('in a handler option: "status" for static_response\'s status_code, "route" for subroute\'s routes', async () => {
    const issues = await issuesOf(handle({ handler: 'static_response', status: 404 }, { handler: 'subroute', route: [] }));
    expect(at(issues, `${SRV}.routes[0].handle[0].status`)).toBe(
      'unknown option for http.handlers.static_response; did you mean "status_code"?',
    );
    expect(at(issues, `${SRV}.routes[0].handle[1].route`)).toBe('unknown option for http.handlers.subroute; did you mean "routes"?');
  });

  it('in a nested object of a module (header_regexp field, headers ops)', async () => {
    const issues = await issuesOf(
      config({
        routes: [
          {
            match: [{ header_regexp: { 'X-Id': { pattern: '^[0-9]+$', nmae: 'id' } } }],
            handle: [{ handler: 'headers', response: { set: { 'X-A': ['1'] }, deffered: true } }],
          },
        ],
      }),
    );
    expect(at(issues, `${SRV}.routes[0].match[0].header_regexp["X-Id"].nmae`)).toBe(
      'unknown option for http.matchers.header_regexp; did you mean "name"?',
    );
    expect(at(issues, `${SRV}.routes[0].handle[0].response.deffered`)).toBe(
      'unknown option for http.handlers.headers; did you mean "deferred"?',
    );
  });

  it('written in camelCase in JSON', async () => {
    const issues = await issuesOf(handle({ handler: 'static_response', statusCode: 201 }));
    expect(at(issues, `${SRV}.routes[0].handle[0].statusCode`)).toMatch(/did you mean "status_code"\?$/);
  });

  it('in a server, at the top level and in a route', async () => {
    const issues = await issuesOf({ ...config({ idle_timout: '1m', route: [], routes: [{ handler: [] }] }), admn: {} });
    expect(at(issues, `${SRV}.idle_timout`)).toBe('unknown option; did you mean "idle_timeout"?');
    expect(at(issues, `${SRV}.route`)).toBe('unknown option; did you mean "routes"?');
    expect(at(issues, 'admn')).toBe('unknown option; did you mean "admin"?');
    expect(at(issues, `${SRV}.routes[0].handler`)).toBe(
      'unknown route field (a route has match, handle, terminal, group); did you mean "handle"?',
    );
  });

  it('in a handler or matcher name, from the registered modules', async () => {
    const issues = await issuesOf(config({ routes: [{ match: [{ methd: ['GET'] }], handle: [{ handler: 'static_respons' }] }] }));
    expect(at(issues, `${SRV}.routes[0].match[0].methd`)).toBe(
      'unknown matcher "methd" (no module http.matchers.methd is registered); did you mean "method"?',
    );
    expect(at(issues, `${SRV}.routes[0].handle[0].handler`)).toBe(
      'unknown handler "static_respons" (no module http.handlers.static_respons is registered); did you mean "static_response"?',
    );
  });
});

describe('a name that is close to nothing lists what is known there', () => {
  it('an option: the options of the module', async () => {
    const issues = await issuesOf(handle({ handler: 'static_response', colour: 'red' }));
    expect(at(issues, `${SRV}.routes[0].handle[0].colour`)).toBe(
      'unknown option for http.handlers.static_response; the options here are: status_code, headers, body, close, abort',
    );
  });

  it('a handler: the registered handlers', async () => {
    const issues = await issuesOf(handle({ handler: 'frobnicate' }));
    expect(at(issues, `${SRV}.routes[0].handle[0].handler`)).toBe(
      'unknown handler "frobnicate" (no module http.handlers.frobnicate is registered); the registered handlers are: cors, error, headers, metrics, request_body, rewrite, static_response, subroute, vars',
    );
  });

  it('a server option of an object that takes none', async () => {
    const issues = await issuesOf(config({ logs: { colour: true } }));
    expect(at(issues, `${SRV}.logs.colour`)).toBe('unknown option (this object takes no options)');
  });
});

describe('a real Caddy option or module that Ferry lacks says so, and is not called unknown', () => {
  it('a top-level option, an app and an http app option', async () => {
    const issues = await issuesOf({ ...config({}, { apps: { pki: {} } }), storage: { module: 'file_system' } });
    expect(at(issues, 'storage')).toBe(
      'Caddy\'s top-level option "storage" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)',
    );
    expect(at(issues, 'apps.pki')).toBe('Caddy\'s app "pki" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)');
    const https = await issuesOf({ apps: { http: { https_port: 8443, servers: {} } } });
    expect(at(https, 'apps.http.https_port')).toMatch(/^Caddy's http app option "https_port" is not supported by Ferry/);
  });

  it('server options, the logs object, TLS connection policies and automatic_https', async () => {
    const issues = await issuesOf(
      config({
        listener_wrappers: [],
        trusted_proxies_strict: 1,
        logs: { skip_hosts: ['a.example'] },
        automatic_https: { ignore_loaded_certificates: true },
      }),
    );
    expect(at(issues, `${SRV}.listener_wrappers`)).toBe(
      'Caddy\'s server option "listener_wrappers" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)',
    );
    expect(at(issues, `${SRV}.trusted_proxies_strict`)).toMatch(/^Caddy's server option "trusted_proxies_strict" is not supported/);
    expect(at(issues, `${SRV}.logs.skip_hosts`)).toMatch(/^Caddy's server option "logs.skip_hosts" is not supported/);
    expect(at(issues, `${SRV}.automatic_https.ignore_loaded_certificates`)).toMatch(
      /^Caddy's server option "automatic_https.ignore_loaded_certificates" is not supported/,
    );
    const tls = await issuesOf(config({ tls_connection_policies: [{ alpn: ['h2'] }] }));
    expect(at(tls, `${SRV}.tls_connection_policies[0].alpn`)).toMatch(/^Caddy's TLS connection policy option "alpn" is not supported/);
  });

  it("a module option: the metrics handler's disable_openmetrics", async () => {
    const issues = await issuesOf(handle({ handler: 'metrics', disable_openmetrics: true }));
    expect(at(issues, `${SRV}.routes[0].handle[0].disable_openmetrics`)).toBe(
      'Caddy\'s metrics option "disable_openmetrics" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)',
    );
  });

  it('a Caddy handler and a Caddy matcher Ferry does not have', async () => {
    const issues = await issuesOf(
      config({ routes: [{ match: [{ expression: '{method} == "GET"' }], handle: [{ handler: 'file_server' }] }] }),
    );
    expect(at(issues, `${SRV}.routes[0].handle[0].handler`)).toBe(
      'Caddy\'s handler "file_server" is not supported by Ferry (no module http.handlers.file_server is registered; see docs/coming-from-caddy.md)',
    );
    expect(at(issues, `${SRV}.routes[0].match[0].expression`)).toMatch(/^Caddy's matcher "expression" is not supported by Ferry/);
  });
});

describe('a module in the wrong place says where it goes', () => {
  it('a matcher used as a handler, and a handler in a matcher set', async () => {
    const issues = await issuesOf(config({ routes: [{ match: [{ static_response: {} }], handle: [{ handler: 'path' }] }] }));
    expect(at(issues, `${SRV}.routes[0].handle[0].handler`)).toBe(
      '"path" is a matcher, not a handler: put it in the route\'s "match" list (as {"path": …})',
    );
    expect(at(issues, `${SRV}.routes[0].match[0].static_response`)).toMatch(
      /^"static_response" is a handler, not a matcher: put it in the route's "handle" list/,
    );
  });
});

describe('hostile names', () => {
  it('a 100 KB unknown key is reported at once, without a suggestion', async () => {
    const key = `x${'a'.repeat(100_000)}`;
    const started = performance.now();
    const issues = await issuesOf(handle({ handler: 'static_response', [key]: 1 }));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/^unknown option for http.handlers.static_response; the options here are:/);
  });

  it('__proto__ and constructor keys are refused as such, with no suggestion', async () => {
    const json = JSON.parse(
      '{"apps":{"http":{"servers":{"srv0":{"listen":["127.0.0.1:0"],"routes":[{"handle":[{"handler":"static_response","__proto__":{"body":"x"},"constructor":1}]}]}}}}}',
    ) as unknown;
    const issues = await issuesOf(json);
    expect(issues.map((i) => i.path).sort()).toEqual([`${SRV}.routes[0].handle[0].__proto__`, `${SRV}.routes[0].handle[0].constructor`]);
    for (const i of issues) expect(i.message).not.toMatch(/did you mean/);
  });
});

describe('a schema Ferry cannot read (a plugin with its own validation library)', () => {
  it('an unknown option is only called unknown: no suggestion, no list, no Caddy claim', async () => {
    // Duck-typed as defineModule allows: safeParse, and issues shaped as zod's.
    const foreign = {
      safeParse: (value: unknown) =>
        Object.keys(value as object).includes('colour')
          ? {
              success: false,
              error: new z.ZodError([
                {
                  code: 'unrecognized_keys',
                  keys: ['colour'],
                  path: [],
                  message: 'Unrecognized key',
                  input: value as Record<string, unknown>,
                },
              ]),
            }
          : { success: true, data: value },
    };
    const mod = defineModule({ id: 'http.handlers.foreign', config: foreign as unknown as z.ZodType, provision: () => () => DONE });
    const err = await loadConfig(handle({ handler: 'foreign', colour: 1 }), {
      registry: new Registry([...coreModules, mod]),
      logger: silentLogger(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      { path: `${SRV}.routes[0].handle[0].colour`, message: 'unknown option for http.handlers.foreign' },
    ]);
  });
});

describe("a header operation's field name", () => {
  it('that is not a token is refused at its path, in every operation, before anything starts', async () => {
    const issues = await issuesOf(
      handle({
        handler: 'headers',
        request: { set: { 'Bad Name': ['x'] }, delete: ['X-Ok-*', 'Bad:Colon'] },
        response: { add: { 'X\r\nInjected': ['1'] }, replace: { Ünïcode: [{ search: 'a', replace: 'b' }] } },
      }),
    );
    const h = `${SRV}.routes[0].handle[0]`;
    expect(at(issues, `${h}.request.set["Bad Name"]`)).toMatch(/^"Bad Name" is not a field name: a name is a token/);
    expect(at(issues, `${h}.request.delete[1]`)).toMatch(/^"Bad:Colon" is not a field name/);
    expect(at(issues, `${h}.response.add["X\\r\\nInjected"]`)).toMatch(/is not a field name/);
    expect(at(issues, `${h}.response.replace["Ünïcode"]`)).toMatch(/is not a field name/);
    expect(issues).toHaveLength(4);
  });

  it('that is a token passes, wildcards included', async () => {
    const app = await load(
      handle({
        handler: 'headers',
        request: { set: { 'X-Forwarded-Proto': ['https'] }, delete: ['*', 'X-Debug-*', '*-Secret'] },
        response: { add: { "X-Weird!#$%&'*+.^_`|~": ['1'] }, replace: { '*': [{ search: 'a', replace: 'b' }] } },
      }),
    );
    expect(app).toBeDefined();
  });
});
