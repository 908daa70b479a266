import { describe, expect, it } from 'vitest';
import { configFile, ferry } from './cli.js';

/**
 * `ferry validate` on a config with many kinds of problem at once: every one printed, each with
 * its JSON path, what is wrong and what would fix it.
 */
describe('ferry validate prints every problem with its path and its fix', () => {
  it('typos, Caddy options and modules Ferry lacks, a Go regexp Ferry cannot run, and a type error', async () => {
    const config = {
      admin: { disabled: true },
      apps: {
        http: {
          https_port: 443,
          servers: {
            srv0: {
              listen: ['127.0.0.1:0'],
              idle_timout: '5m',
              routes: [
                {
                  match: [{ path_regexp: { name: 'user', pattern: '^/users/(?P<id>[0-9]+)/(?P=id)$' } }],
                  handle: [
                    { handler: 'static_response', status: 404, body: 'user {http.regexp.user.id}' },
                    { handler: 'templates', mime_types: ['text/html'] },
                    { handler: 'reverse_proxy', upstreams: [{ dial: '127.0.0.1:9' }], load_balancing: { retry_match: [] } },
                    { handler: 'subroute', route: [] },
                  ],
                },
                {
                  match: [{ path_regexp: { name: 'ok', pattern: '^/ok/(?P<id>[0-9]+)$' } }],
                  handle: [{ handler: 'static_response', body: 42 }],
                },
              ],
            },
          },
        },
      },
    };
    const r = await ferry(['validate', '--config', configFile(config)]);
    expect(r.code).toBe(1);
    const at = 'apps.http.servers.srv0';
    const see = 'remove it (see docs/coming-from-caddy.md)';
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `error: apps.http.https_port: Caddy's http app option "https_port" is not supported by Ferry: ${see}`,
      `error: ${at}.idle_timout: unknown option; did you mean "idle_timeout"?`,
      `error: ${at}.routes[0].match[0].path_regexp: invalid regular expression "^/users/(?P<id>[0-9]+)/(?P=id)$": invalid or unsupported Perl syntax: \`(?P\`; Ferry uses RE2 syntax for regular expressions, as Caddy does, and RE2 has no named backreferences ((?P=name))`,
      `error: ${at}.routes[0].handle[0].status: unknown option for http.handlers.static_response; did you mean "status_code"?`,
      `error: ${at}.routes[0].handle[1].handler: Caddy's handler "templates" is not supported by Ferry (no module http.handlers.templates is registered; see docs/coming-from-caddy.md)`,
      `error: ${at}.routes[0].handle[2].load_balancing.retry_match: Caddy's reverse_proxy option "load_balancing.retry_match" is not supported by Ferry: ${see}`,
      `error: ${at}.routes[0].handle[3].route: unknown option for http.handlers.subroute; did you mean "routes"?`,
      `error: ${at}.routes[1].handle[0].body: Invalid input: expected string, received number`,
      '8 problems: nothing started',
    ]);
  });
});
