import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { zstdAvailable } from '@ferry/encode';
import { configFile, ferry, ferryRun, FIXTURES, stop } from './cli.js';
import type { ChildProcess } from 'node:child_process';

const PLUGIN = join(FIXTURES, 'greet-plugin.mjs');

function server(routes: unknown[], extra: Record<string, unknown> = {}) {
  return { admin: { disabled: true }, apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes, ...extra } } } } };
}

let running: ChildProcess | undefined;
afterEach(async () => {
  if (running) await stop(running);
  running = undefined;
});

describe('ferry version and list-modules', () => {
  it('prints its version', async () => {
    const r = await ferry(['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ferry \d+\.\d+\.\d+/);
  });

  it('lists every standard module, one ID per line', async () => {
    const r = await ferry(['list-modules']);
    expect(r.code).toBe(0);
    const ids = r.stdout.trim().split('\n');
    expect(ids).toContain('http.handlers.static_response');
    expect(ids).toContain('http.matchers.path');
    expect(ids).not.toContain('http.handlers.greet');
  });

  it('lists a plugin module loaded with --plugin', async () => {
    const r = await ferry(['list-modules', '--plugin', PLUGIN]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toContain('http.handlers.greet');
  });

  it('refuses a plugin whose default export is not a module', async () => {
    const r = await ferry(['list-modules', '--plugin', join(FIXTURES, 'not-a-module.mjs')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a module/);
  });

  it('refuses a plugin file that does not exist', async () => {
    const r = await ferry(['list-modules', '--plugin', './no-such-plugin.mjs']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/plugin \.\/no-such-plugin\.mjs/);
  });

  it('rejects an unknown command with usage and exit code 2', async () => {
    const r = await ferry(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});

describe('ferry run', () => {
  it('serves a config that uses a plugin module, and stops with exit code 0 on SIGTERM', async () => {
    const cfg = configFile(
      server([
        {
          handle: [
            { handler: 'greet', name: 'ferry' },
            { handler: 'static_response', body: 'hi' },
          ],
        },
      ]),
    );
    const r = await ferryRun(['--config', cfg, '--plugin', PLUGIN]);
    running = r.child;
    const res = await fetch(`http://127.0.0.1:${r.port}/`);
    expect(res.headers.get('x-greet')).toBe('hello, ferry');
    expect(await res.text()).toBe('hi');
    running = undefined;
    expect(await stop(r.child)).toBe(0);
  });

  it('prints the embedded default config, which validates and serves its page', async () => {
    const printed = await ferry(['run', '--print-default-config']);
    expect(printed.code).toBe(0);
    const config = JSON.parse(printed.stdout);
    const file = configFile(printed.stdout);
    const valid = await ferry(['validate', '--config', file]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/valid config/);
    // Same config on an ephemeral port, so the test never fights over :8080.
    for (const s of Object.values(config.apps.http.servers) as { listen: string[] }[]) s.listen = ['127.0.0.1:0'];
    const r = await ferryRun(['--config', configFile(config)]);
    running = r.child;
    const page = await fetch(`http://127.0.0.1:${r.port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/Ferry is running/);
    const missing = await fetch(`http://127.0.0.1:${r.port}/nope`);
    expect(missing.status).toBe(404);
  });
});

describe('invalid configs exit non-zero, name the JSON path, and start nothing', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'an unknown handler',
      server([{ handle: [{ handler: 'nope' }] }]),
      /apps\.http\.servers\.srv0\.routes\[0\]\.handle\[0\]\.handler: unknown handler "nope"/,
    ],
    [
      'an unknown option',
      server([{ handle: [{ handler: 'static_response', bodyy: 'x' }] }]),
      /routes\[0\]\.handle\[0\]\.bodyy: unknown option/,
    ],
    [
      'a wrong type',
      server([{ handle: [{ handler: 'static_response', body: 42 }] }]),
      /routes\[0\]\.handle\[0\]\.body: .*expected string/i,
    ],
    ['an unknown matcher', server([{ match: [{ pathh: ['/'] }], handle: [] }]), /routes\[0\]\.match\[0\]\.pathh: unknown matcher/],
    ['an empty listen list', server([], { listen: [] }), /apps\.http\.servers\.srv0\.listen: .*(>=1|at least 1)/i],
    [
      'an empty remote_ip range list',
      server([{ match: [{ remote_ip: { ranges: [] } }], handle: [] }]),
      /match\[0\]\.remote_ip\.ranges: .*(>=1|at least 1)/i,
    ],
    ['a bad duration', server([], { idle_timeout: '5 minutes' }), /apps\.http\.servers\.srv0\.idle_timeout: invalid duration/],
    ['an unknown top-level key', { apps: {}, storrage: {} }, /^error: storrage: unknown option/m],
    [
      'a Caddy top-level key Ferry lacks',
      { apps: {}, storage: {} },
      /^error: storage: Caddy's top-level option "storage" is not supported by Ferry/m,
    ],
  ];
  for (const [what, config, pattern] of cases) {
    it(`reports ${what}`, async () => {
      const file = configFile(config);
      for (const command of ['validate', 'run']) {
        const r = await ferry([command, '--config', file], { FERRY_LOG_LEVEL: 'info' });
        expect(r.code, `${command}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(pattern);
        expect(r.stderr).toMatch(/nothing started/);
        expect(r.stderr).not.toMatch(/"msg":"listening"/);
      }
    });
  }

  it('reports an unreadable file in one clear line', async () => {
    const r = await ferry(['run', '--config', '/nonexistent/ferry.json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot read config file \/nonexistent\/ferry\.json: no such file$/m);
  });

  it('reports invalid JSON in one clear line', async () => {
    const r = await ferry(['validate', '--config', configFile('{"apps": ')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: config file .* is not valid JSON: /m);
  });

  it('reports every problem of a config at once', async () => {
    const r = await ferry([
      'validate',
      '--config',
      configFile(server([{ handle: [{ handler: 'nope' }, { handler: 'static_response', status_code: true }] }], { read_timeout: 'soon' })),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/read_timeout/);
    expect(r.stderr).toMatch(/handle\[0\]\.handler/);
    expect(r.stderr).toMatch(/handle\[1\]\.status_code/);
    expect(r.stderr).toMatch(/3 problems: nothing started/);
  });
});

describe('ferry validate warns about what a valid config does differently here', () => {
  // `encode zstd gzip` is Caddy's most common encode config; on a Node without zstd it runs without zstd.
  it.runIf(!zstdAvailable)(
    'validate accepts encode with zstd and gzip on a Node without zstd, and prints one warning at encodings.zstd',
    async () => {
      const encode = { handler: 'encode', encodings: { zstd: {}, gzip: {} } };
      const r = await ferry([
        'validate',
        '--config',
        configFile(server([{ handle: [encode, { handler: 'static_response', body: 'hi' }] }])),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/valid config/);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^warning: apps\.http\.servers\.srv0\.routes\[0\]\.handle\[0\]\.encodings\.zstd: zstd needs Node 22\.15\+/,
      );
      expect(warnings[0]).toContain(`Node ${process.versions.node}`);
    },
  );
});
