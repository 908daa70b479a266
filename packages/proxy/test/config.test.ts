import { describe, expect, it } from 'vitest';
import { ConfigError, coreModules, loadConfig, Registry } from '@ferry/core';
import { reverseProxyModule } from '../src/index.js';
import { defer } from './helpers/net.js';
import { h1Get } from '@ferry/test-kit/clients';
import { httpUpstream } from '@ferry/test-kit/upstreams';

const registry = () => new Registry([...coreModules, reverseProxyModule]);

/** A one-server config whose only route runs `handler`. */
function config(handler: Record<string, unknown>) {
  return {
    admin: { disabled: true },
    apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [{ handle: [handler] }] } } } },
  };
}

const at = 'apps.http.servers.srv0.routes[0].handle[0]';

async function issuesOf(handler: Record<string, unknown>): Promise<{ path: string; message: string }[]> {
  try {
    const app = await loadConfig(config(handler), { registry: registry(), logger: (await import('pino')).pino({ enabled: false }) });
    await app.stop(0);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('reverse_proxy in JSON config', () => {
  it('proxies with a valid Caddy-style config', async () => {
    const up = await httpUpstream('from-config');
    const app = await loadConfig(
      config({
        handler: 'reverse_proxy',
        upstreams: [{ dial: up.dial }],
        load_balancing: { selection_policy: { policy: 'round_robin' }, retries: 1, try_interval: '50ms' },
        health_checks: { passive: { fail_duration: '10s', max_fails: 3, unhealthy_status: [502] } },
        headers: { request: { set: { 'X-Via-Config': ['{http.request.method}'] } } },
        flush_interval: -1,
        transport: { protocol: 'http', dial_timeout: '1s', response_header_timeout: '5s', versions: ['1.1'] },
      }),
      { registry: registry(), logger: (await import('pino')).pino({ enabled: false }) },
    );
    await app.start();
    defer(() => app.stop(0));
    const r = await h1Get(app.servers[0]!.url);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('from-config');
    expect(up.seen[0]!.headers['x-via-config']).toBe('GET');
  });

  it('refuses an empty upstreams list, naming its path', async () => {
    const issues = await issuesOf({ handler: 'reverse_proxy', upstreams: [] });
    expect(issues.map((i) => i.path)).toContain(`${at}.upstreams`);
  });

  it('reports an unknown option with its path', async () => {
    const issues = await issuesOf({ handler: 'reverse_proxy', upstreams: [{ dial: '127.0.0.1:1' }], flush_intervall: -1 });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path.startsWith(at)).toBe(true);
    expect(`${issues[0]!.path} ${issues[0]!.message}`).toContain('flush_intervall');
  });

  it('reports an unknown selection policy with its path', async () => {
    const issues = await issuesOf({
      handler: 'reverse_proxy',
      upstreams: [{ dial: '127.0.0.1:1' }],
      load_balancing: { selection_policy: { policy: 'fastest' } },
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`${at}.load_balancing.selection_policy.policy`);
  });

  it('reports weights that do not match the upstreams', async () => {
    const issues = await issuesOf({
      handler: 'reverse_proxy',
      upstreams: [{ dial: '127.0.0.1:1' }, { dial: '127.0.0.1:2' }],
      load_balancing: { selection_policy: { policy: 'weighted_round_robin', weights: [3] } },
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path.startsWith(at)).toBe(true);
    expect(issues[0]!.message).toMatch(/weights/);
  });

  it('reports a dial address without a port with its path', async () => {
    const issues = await issuesOf({ handler: 'reverse_proxy', upstreams: [{ dial: 'localhost' }] });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`${at}.upstreams[0].dial`);
  });
});
