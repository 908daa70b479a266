import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The demo site's folder: dist/demo of the installed package, next to this module once built
 * (copied there at build time with its precompressed sidecars, and shipped in the package's `files`).
 */
export const DEMO_ROOT = fileURLToPath(new URL('./demo', import.meta.url));

/** `root` is a template: braces in the install path are literal text. */
const literal = (text: string) => text.replace(/[{}]/g, '\\$&');

const SIDECAR = { br: '.br', zstd: '.zst', gzip: '.gz' } as const;

/** The sidecars the build made (zstd only where the building Node had it), best first: file_server's `precompressed` and its order. */
function precompressed(root: string) {
  const found = Object.entries(SIDECAR)
    .filter(([, suffix]) => existsSync(join(root, `index.html${suffix}`)))
    .map(([encoding]) => encoding);
  return { precompressed: Object.fromEntries(found.map((encoding) => [encoding, {}])), precompressed_order: found };
}

/** What the page cannot know from its own static file: the protocol of the request and the client's address. */
const WHOAMI = '{"proto":"{http.request.proto}","remote":"{http.request.remote.host}"}\n';

/** Every route of the demo site, the same on http://localhost:8080 and https://localhost:8443. */
function demoRoutes(upstream: string, root: string) {
  return [
    {
      handle: [
        { handler: 'headers', response: { set: { Server: ['ferry'], 'X-Content-Type-Options': ['nosniff'] } } },
        { handler: 'encode', encodings: { br: {}, gzip: {} }, prefer: ['br', 'gzip'], minimum_length: 256 },
      ],
    },
    { match: [{ path: ['/events'] }], handle: [{ handler: 'ferry_status' }], terminal: true },
    {
      match: [{ path: ['/ws'] }],
      handle: [
        {
          handler: 'reverse_proxy',
          upstreams: [{ dial: upstream }],
          health_checks: { active: { uri: '/healthz', interval: '2s', timeout: '1s' } },
          stream_close_delay: '500ms',
        },
      ],
      terminal: true,
    },
    { match: [{ path: ['/duplex'] }], handle: [{ handler: 'duplex_echo' }], terminal: true },
    { match: [{ path: ['/metrics'] }], handle: [{ handler: 'metrics' }], terminal: true },
    { match: [{ path: ['/healthz'] }], handle: [{ handler: 'static_response', body: 'ok\n' }], terminal: true },
    {
      match: [{ path: ['/whoami'] }],
      handle: [
        {
          handler: 'static_response',
          headers: { 'Content-Type': ['application/json'], 'Cache-Control': ['no-store'] },
          body: WHOAMI,
        },
      ],
      terminal: true,
    },
    {
      match: [{ path: ['/', '/app.js', '/favicon.svg'] }],
      handle: [
        { handler: 'headers', response: { set: { 'Cache-Control': ['no-cache'] } } },
        { handler: 'file_server', root: literal(root), ...precompressed(root) },
      ],
      terminal: true,
    },
    { handle: [{ handler: 'error', status_code: 404, error: 'nothing here: {http.request.uri.path}' }] },
  ];
}

const errors = {
  routes: [
    {
      handle: [
        {
          handler: 'static_response',
          status_code: '{http.error.status_code}',
          body: '{http.error.status_code}: {http.error.message}\n',
        },
      ],
    },
  ],
};

/**
 * Where the demo listens unless `ferry run --host` says otherwise: loopback, as the demo serves
 * `/metrics` and a proxy to its own upstream to anyone who reaches it (issue #13 item 10).
 */
export const DEMO_HOST = '127.0.0.1';

const WILDCARD = new Set(['0.0.0.0', '::']);
const CERTIFIED = ['localhost', '127.0.0.1'];

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** What is wrong with `host` as the demo's `--host`, or undefined when it is an IP address or a host name. */
export function demoHostProblem(host: string): string | undefined {
  if (isIP(host) !== 0 || HOST_NAME.test(host)) return undefined;
  return `--host must be an IP address or a host name (127.0.0.1, ::1, 0.0.0.0 for every interface), without a port or brackets; got "${host}"`;
}

/** `host:port` as a listen address: an IPv6 address goes in brackets. */
const address = (host: string, port: number) => (isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * The embedded default config: what `ferry run` serves without `--config` — a live demo of every
 * package on http://localhost:8080 (HTTP/1.1 and h2c) and https://localhost:8443 (h2, with a
 * self-signed certificate from the internal issuer), plus a WebSocket echo upstream on loopback.
 * `host` is the address the demo's two servers listen on (`0.0.0.0` or `::` for every
 * interface); a specific one is added to the certificate. A plain Caddy-style JSON document;
 * `ferry run --print-default-config` prints it.
 */
export function defaultConfig(host: string = DEMO_HOST) {
  const upstream = '127.0.0.1:8079';
  const routes = demoRoutes(upstream, DEMO_ROOT);
  const subjects = WILDCARD.has(host) || CERTIFIED.includes(host) ? [...CERTIFIED] : [...CERTIFIED, host];
  return {
    admin: { disabled: true },
    apps: {
      http: {
        grace_period: '5s',
        metrics: {},
        servers: {
          demo: { listen: [address(host, 8080)], protocols: ['h1', 'h2c'], enable_full_duplex: true, logs: {}, routes, errors },
          demo_tls: {
            listen: [address(host, 8443)],
            protocols: ['h1', 'h2'],
            enable_full_duplex: true,
            tls_connection_policies: [{}],
            logs: {},
            routes,
            errors,
          },
          upstream: {
            listen: [upstream],
            protocols: ['h1'],
            routes: [
              { match: [{ path: ['/healthz'] }], handle: [{ handler: 'static_response', body: 'ok\n' }], terminal: true },
              { handle: [{ handler: 'websocket_echo' }] },
            ],
          },
        },
      },
      tls: { automation: { policies: [{ subjects, issuers: [{ module: 'internal' }] }] } },
    },
  };
}

/** The line `ferry run` prints when it serves the embedded default: where to point a browser, and who else can. */
export function demoBanner(host: string): string {
  const everywhere = host === '0.0.0.0' || host === '::';
  const name = everywhere || host === '127.0.0.1' || host === '::1' ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host;
  const reach = everywhere
    ? 'on every interface: anyone who reaches this machine sees it, /metrics included'
    : `on ${host} only (--host 0.0.0.0 for every interface)`;
  return `serving the embedded default: http://${name}:8080/ and https://${name}:8443/ (self-signed), ${reach}`;
}
