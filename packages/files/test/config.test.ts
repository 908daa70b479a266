/** file_server and file in config: misspelled and unsupported options named at their JSON paths; a missing root warns. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, silentLogger, type ConfigIssue } from '@ferry/core';
import { h1Get } from '@ferry/test-kit/clients';
import { defer, makeSite, registry } from './helpers.js';

const AT = 'apps.http.servers.srv0.routes[0]';

function json(route: Record<string, unknown>) {
  return { admin: { disabled: true }, apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [route] } } } } };
}

async function issuesOf(config: unknown): Promise<string[]> {
  const err = await loadConfig(config, { registry, logger: silentLogger() }).then(
    async (app) => {
      await app.stop(0);
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).issues.map((i: ConfigIssue) => `${i.path}: ${i.message}`);
}

describe('file_server config', () => {
  it('names each misspelled or unsupported option with its JSON path and the fix', async () => {
    const issues = await issuesOf(
      json({
        handle: [
          {
            handler: 'file_server',
            roots: '/srv',
            index_name: ['a.html'],
            browse: { sort: ['size', 'up'], template_file: 'x.html' },
            precompressed: { gzip: {}, brotli: {} },
            precompressed_order: ['zstd'],
            fs: 'embedded',
          },
        ],
      }),
    );
    const h = `${AT}.handle[0]`;
    expect(issues).toEqual(
      expect.arrayContaining([
        `${h}.roots: unknown option for http.handlers.file_server; did you mean "root"?`,
        `${h}.index_name: unknown option for http.handlers.file_server; did you mean "index_names"?`,
        `${h}.fs: Caddy's file_server option "fs" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)`,
        `${h}.browse.template_file: Caddy's file_server option "browse.template_file" is not supported by Ferry: remove it (see docs/coming-from-caddy.md)`,
        expect.stringMatching(/^apps\.http\.servers\.srv0\.routes\[0\]\.handle\[0\]\.precompressed\.brotli: unknown option/),
        expect.stringMatching(/^apps\.http\.servers\.srv0\.routes\[0\]\.handle\[0\]\.browse\.sort\[1\]: /),
      ]),
    );
  });

  it('precompressed_order may name only configured encodings; index_names are file names', async () => {
    const issues = await issuesOf(
      json({ handle: [{ handler: 'file_server', precompressed: { gzip: {} }, precompressed_order: ['br'], index_names: ['../x.html'] }] }),
    );
    expect(issues.join('\n')).toContain('precompressed_order[0] names "br", which is not in precompressed');
    expect(issues.join('\n')).toContain('index_names[0]: "../x.html" is not a file name');
  });

  it('the file matcher: a misspelled option and an unknown try_policy are named at their paths', async () => {
    const issues = await issuesOf(json({ match: [{ file: { try_file: ['/x'], try_policy: 'biggest' } }], handle: [] }));
    expect(issues).toEqual(
      expect.arrayContaining([
        `${AT}.match[0].file.try_file: unknown option for http.matchers.file; did you mean "try_files"?`,
        expect.stringMatching(/^apps\.http\.servers\.srv0\.routes\[0\]\.match\[0\]\.file\.try_policy: /),
      ]),
    );
  });

  it('a root that does not exist is a warning at start-up, and requests get 404 until it appears', async () => {
    const site = makeSite();
    const missing = `${site.dir}/not-yet`;
    const app = await loadConfig(json({ handle: [{ handler: 'file_server', root: missing }] }), { registry, logger: silentLogger() });
    defer(() => app.stop(0));
    expect(app.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      `${AT}.handle[0].root: root "${missing}" does not exist: every request gets 404 until it does`,
    ]);
    await app.start();
    expect((await h1Get(`${app.servers[0]!.url}/x`)).status).toBe(404);
  });
});
