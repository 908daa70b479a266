import { request as httpsRequest } from 'node:https';
import { connect as h2connect } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ConfigIssue } from '../src/index.js';
import { selfSigned } from '@ferry/test-kit/certs';
import { accepts, send } from './helpers/http.js';
import { freePort } from '@ferry/test-kit/ports';
import { issuesOf, load } from './helpers/config.js';

const paths = (issues: ConfigIssue[]) => issues.map((i) => i.path);

/** A config with one server `srv0` on an ephemeral port; `server` fields override the defaults. */
function config(server: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return {
    admin: { disabled: true },
    ...rest,
    apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], ...server } } }, ...(rest.apps as object) },
  };
}

const hello = [{ handle: [{ handler: 'static_response', body: 'hello from {http.request.host}' }] }];

describe('a valid config', () => {
  it('loads, starts, serves and stops', async () => {
    const app = await load(
      config({
        routes: [{ match: [{ path: ['/api/*'] }], handle: [{ handler: 'static_response', body: 'api' }], terminal: true }, ...hello],
        errors: { routes: [{ handle: [{ handler: 'static_response', status_code: '{http.error.status_code}', body: 'oops' }] }] },
        read_header_timeout: '10s',
        idle_timeout: '1m30s',
        max_header_bytes: 16384,
      }),
    );
    await app.start();
    const url = app.servers[0]!.url;
    expect((await send(url, '/api/x')).body).toBe('api');
    expect((await send(url, '/', { headers: { host: 'example.com' } })).body).toBe('hello from example.com');
    await app.stop(0);
    expect(await accepts(Number(new URL(url).port))).toBe(false);
  });

  it('names its servers after the config keys', async () => {
    const app = await load({ apps: { http: { servers: { alpha: { listen: ['127.0.0.1:0'] }, beta: { listen: ['127.0.0.1:0'] } } } } });
    expect(app.servers.map((s) => s.name)).toEqual(['alpha', 'beta']);
    expect(app.server('beta')).toBe(app.servers[1]);
  });
});

describe('an invalid config', () => {
  it('reports an unknown handler at its handler field', async () => {
    expect(paths(await issuesOf(config({ routes: [{ handle: [{ handler: 'no_such_handler' }] }] })))).toEqual([
      'apps.http.servers.srv0.routes[0].handle[0].handler',
    ]);
  });

  it('reports an unknown handler option at the option itself', async () => {
    const issues = await issuesOf(config({ routes: [{ handle: [{ handler: 'static_response', body: 'x', bogus: true }] }] }));
    expect(paths(issues)).toEqual(['apps.http.servers.srv0.routes[0].handle[0].bogus']);
    expect(issues[0]!.message).toMatch(/unknown option/);
  });

  it('reports a value of the wrong type at its path', async () => {
    const issues = await issuesOf(config({ enable_full_duplex: 'yes', routes: [{ handle: [{ handler: 'static_response', body: 42 }] }] }));
    expect(paths(issues).sort()).toEqual(['apps.http.servers.srv0.enable_full_duplex', 'apps.http.servers.srv0.routes[0].handle[0].body']);
  });

  it('reports an unknown matcher at its name', async () => {
    expect(paths(await issuesOf(config({ routes: [{ match: [{ path: ['/a'] }, { bogus: ['x'] }], handle: [] }] })))).toEqual([
      'apps.http.servers.srv0.routes[0].match[1].bogus',
    ]);
  });

  it('reports a bad matcher value at the matcher', async () => {
    expect(paths(await issuesOf(config({ routes: [{ match: [{ method: 'GET' }] }] })))).toEqual([
      'apps.http.servers.srv0.routes[0].match[0].method',
    ]);
  });

  it('reports an unknown route field', async () => {
    expect(paths(await issuesOf(config({ routes: [{ handle: [], terminl: true }] })))).toEqual([
      'apps.http.servers.srv0.routes[0].terminl',
    ]);
  });

  it('reports a bad duration at its option', async () => {
    const issues = await issuesOf(config({ read_timeout: '5 parsecs' }));
    expect(paths(issues)).toEqual(['apps.http.servers.srv0.read_timeout']);
    expect(issues[0]!.message).toMatch(/invalid duration/);
  });

  it('reports a duration string without a unit instead of reading it as nanoseconds', async () => {
    expect(paths(await issuesOf(config({ idle_timeout: '30' })))).toEqual(['apps.http.servers.srv0.idle_timeout']);
  });

  it('reports a bad listen address at its index', async () => {
    expect(paths(await issuesOf(config({ listen: ['127.0.0.1:0', 'localhost'] })))).toEqual(['apps.http.servers.srv0.listen[1]']);
  });

  it('reports an unknown top-level key', async () => {
    expect(paths(await issuesOf({ ...config({}), storage: { module: 'file_system' } }))).toEqual(['storage']);
  });

  it('reports an unknown server option', async () => {
    const issues = await issuesOf(config({ trusted_proxies_strictly: 1 }));
    expect(paths(issues)).toEqual(['apps.http.servers.srv0.trusted_proxies_strictly']);
    expect(issues[0]!.message).toMatch(/unknown option/);
  });

  it("reports a Caddy server option Ferry does not support as Caddy's", async () => {
    const issues = await issuesOf(config({ trusted_proxies_strict: 1 }));
    expect(paths(issues)).toEqual(['apps.http.servers.srv0.trusted_proxies_strict']);
    expect(issues[0]!.message).toMatch(/^Caddy's server option "trusted_proxies_strict" is not supported by Ferry/);
  });

  it('reports h3 in protocols as unsupported', async () => {
    const issues = await issuesOf(config({ protocols: ['h1', 'h3'] }));
    expect(paths(issues)).toEqual(['apps.http.servers.srv0.protocols[1]']);
    expect(issues[0]!.message).toMatch(/HTTP\/3/);
  });

  it('reports the same listen address used by two servers', async () => {
    const port = await freePort();
    const issues = await issuesOf({
      apps: { http: { servers: { srv0: { listen: [`127.0.0.1:${port}`] }, srv1: { listen: [`127.0.0.1:${port}`] } } } },
    });
    expect(paths(issues)).toEqual(['apps.http.servers.srv1.listen[0]']);
    expect(issues[0]!.message).toContain('apps.http.servers.srv0.listen[0]');
  });

  it('reports a listener on all interfaces and one on a single address with the same port', async () => {
    const port = await freePort();
    const issues = await issuesOf({
      apps: { http: { servers: { srv0: { listen: [`:${port}`] }, srv1: { listen: [`127.0.0.1:${port}`] } } } },
    });
    expect(paths(issues)).toEqual(['apps.http.servers.srv1.listen[0]']);
  });

  it('reports a certificate file that cannot be read', async () => {
    const { keyFile } = selfSigned();
    const issues = await issuesOf(
      config({}, { apps: { tls: { certificates: { load_files: [{ certificate: '/nonexistent/ferry/cert.pem', key: keyFile }] } } } }),
    );
    expect(paths(issues)).toEqual(['apps.tls.certificates.load_files[0].certificate']);
    expect(issues[0]!.message).toContain('/nonexistent/ferry/cert.pem');
  });

  it('reports a TLS policy when no certificate is loaded', async () => {
    expect(paths(await issuesOf(config({ tls_connection_policies: [{}] })))).toEqual(['apps.http.servers.srv0.tls_connection_policies']);
  });

  it('reports a config that is not an object as one issue', async () => {
    expect(await issuesOf(['not', 'a', 'config'])).toHaveLength(1);
  });

  it('reports several problems in one server and across servers all at once', async () => {
    const issues = await issuesOf({
      apps: {
        http: {
          servers: {
            srv0: {
              listen: ['127.0.0.1:0'],
              read_timeout: 'soon',
              routes: [
                { handle: [{ handler: 'nope' }] },
                { match: [{ bogus: [] }], handle: [{ handler: 'static_response', status_code: true }] },
              ],
            },
            srv1: {
              listen: ['127.0.0.1:0'],
              protocols: ['h3'],
              errors: {
                routes: [
                  {
                    handle: [
                      { handler: 'vars', x: 1 },
                      { handler: 'headers', response: { sett: {} } },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    });
    expect(paths(issues).sort()).toEqual(
      [
        'apps.http.servers.srv0.read_timeout',
        'apps.http.servers.srv0.routes[0].handle[0].handler',
        'apps.http.servers.srv0.routes[1].match[0].bogus',
        'apps.http.servers.srv0.routes[1].handle[0].status_code',
        'apps.http.servers.srv1.protocols[0]',
        'apps.http.servers.srv1.errors.routes[0].handle[1].response.sett',
      ].sort(),
    );
  });

  it('reports the problems inside the servers along with a bad top-level field', async () => {
    const issues = await issuesOf({
      admin: { disabled: true, bogus: 1 },
      apps: { http: { servers: { srv0: { listen: ['127.0.0.1:0'], routes: [{ handle: [{ handler: 'nope' }] }] } } } },
    });
    expect(paths(issues).sort()).toEqual(['admin.bogus', 'apps.http.servers.srv0.routes[0].handle[0].handler']);
  });

  it('reports a bad TLS section without a spurious missing-certificate issue for the servers', async () => {
    const { certFile, keyFile } = selfSigned();
    const issues = await issuesOf(
      config(
        { tls_connection_policies: [{}], routes: [{ handle: [{ handler: 'nope' }] }] },
        { apps: { tls: { certificates: { load_files: [{ certificate: certFile, key: keyFile, fromat: 'pem' }] } } } },
      ),
    );
    expect(paths(issues).sort()).toEqual([
      'apps.http.servers.srv0.routes[0].handle[0].handler',
      'apps.tls.certificates.load_files[0].fromat',
    ]);
  });

  it('starts nothing: the listen port of a config that failed to load stays closed', async () => {
    const port = await freePort();
    await issuesOf({
      apps: { http: { servers: { srv0: { listen: [`127.0.0.1:${port}`], routes: [{ handle: [{ handler: 'nope' }] }] } } } },
    });
    expect(await accepts(port)).toBe(false);
  });

  it('starts nothing when one server cannot listen: the others are stopped again', async () => {
    const blocker: NetServer = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (blocker.address() as { port: number }).port;
      const free = await freePort();
      const app = await load({
        apps: { http: { servers: { first: { listen: [`127.0.0.1:${free}`] }, second: { listen: [`127.0.0.1:${taken}`] } } } },
      });
      await expect(app.start()).rejects.toThrow(/cannot listen/);
      expect(await accepts(free)).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('TLS and automatic HTTPS', () => {
  function tlsConfig() {
    const { certFile, keyFile } = selfSigned();
    return config(
      {
        tls_connection_policies: [{}],
        routes: [{ handle: [{ handler: 'static_response', body: '{http.request.scheme} {http.request.proto}' }] }],
      },
      { apps: { tls: { certificates: { load_files: [{ certificate: certFile, key: keyFile }] } } } },
    );
  }

  it('tls_connection_policies [{}] serves HTTPS with the loaded certificate', async () => {
    const app = await load(tlsConfig());
    await app.start();
    const url = app.servers[0]!.url;
    expect(url).toMatch(/^https:\/\//);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(url, { ca: selfSigned().cert }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('https HTTP/1.1');
  });

  it('a TLS server speaks h2 to a client that offers it by ALPN', async () => {
    const app = await load(tlsConfig());
    await app.start();
    const session = h2connect(app.servers[0]!.url, { ca: selfSigned().cert });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        let text = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      });
      expect(body).toBe('https HTTP/2.0');
    } finally {
      session.close();
    }
  });

  it('warns that Ferry obtains no certificates for a server Caddy would put on automatic HTTPS', async () => {
    const app = await load(
      config({ routes: [{ match: [{ host: ['example.com'] }], handle: [{ handler: 'static_response', body: 'x' }] }] }),
    );
    expect(app.warnings).toEqual([{ path: 'apps.http.servers.srv0', message: expect.stringMatching(/automatic HTTPS/) }]);
  });

  it('does not warn about automatic HTTPS when it is disabled', async () => {
    const app = await load(
      config({
        automatic_https: { disable: true },
        routes: [{ match: [{ host: ['example.com'] }], handle: [{ handler: 'static_response', body: 'x' }] }],
      }),
    );
    expect(app.warnings).toEqual([]);
  });

  it('does not warn about automatic HTTPS for a server without host matchers', async () => {
    const app = await load(config({ routes: hello }));
    expect(app.warnings).toEqual([]);
  });
});
