import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The demo page's files ship in dist/demo (copied at build time), next to this module once built.
function demoFile(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./demo/${name}`, import.meta.url)), 'utf8');
}

const staticFile = (path: string, type: string, body: string) => ({
  match: [{ path: [path] }],
  handle: [{ handler: 'static_response', headers: { 'Content-Type': [type], 'Cache-Control': ['no-cache'] }, body }],
  terminal: true,
});

/** Every route of the demo site, the same on http://localhost:8080 and https://localhost:8443. */
function demoRoutes(upstream: string) {
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
    staticFile('/app.js', 'text/javascript; charset=utf-8', demoFile('app.js')),
    staticFile('/favicon.svg', 'image/svg+xml', demoFile('favicon.svg')),
    staticFile('/', 'text/html; charset=utf-8', demoFile('index.html')),
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
 * The embedded default config: what `ferry run` serves without `--config` — a live demo of every
 * package on http://localhost:8080 (HTTP/1.1 and h2c) and https://localhost:8443 (h2, with a
 * self-signed certificate from the internal issuer), plus a WebSocket echo upstream on loopback.
 * A plain Caddy-style JSON document; `ferry run --print-default-config` prints it.
 */
export function defaultConfig() {
  const upstream = '127.0.0.1:8079';
  const routes = demoRoutes(upstream);
  return {
    admin: { disabled: true },
    apps: {
      http: {
        grace_period: '5s',
        metrics: {},
        servers: {
          demo: { listen: [':8080'], protocols: ['h1', 'h2c'], enable_full_duplex: true, logs: {}, routes, errors },
          demo_tls: {
            listen: [':8443'],
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
      tls: { automation: { policies: [{ subjects: ['localhost', '127.0.0.1'], issuers: [{ module: 'internal' }] }] } },
    },
  };
}
