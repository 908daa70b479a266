// Ferry is benchmarked as operators run it: the real `ferry run` CLI with these Caddy-style configs.
// Run directly (`node ferry-config.mjs PORT`) it prints the hello config, to try by hand.
import { fileURLToPath } from 'node:url';
import { BODY, HOST } from './common.mjs';

/** One HTTP/1.1 server on 127.0.0.1:port with these routes, admin off. */
function ferryServer(port, routes) {
  return { admin: { disabled: true }, apps: { http: { servers: { bench: { listen: [`${HOST}:${port}`], protocols: ['h1'], routes } } } } };
}

/**
 * hello: one route with a path matcher and a two-handler chain, so the measurement covers
 * route matching, a middleware (headers) and a terminal handler rather than a bare responder.
 */
export function ferryConfig(port) {
  return ferryServer(port, [
    {
      match: [{ path: ['/'] }],
      handle: [
        { handler: 'headers', response: { set: { 'X-Bench': ['1'] } } },
        { handler: 'static_response', body: BODY },
      ],
    },
  ]);
}

/** proxy and ws: every request (WebSocket upgrades included) to the upstream, with Ferry's defaults. */
export function ferryProxyConfig(port, upstreamPort) {
  return ferryServer(port, [{ handle: [reverseProxy(upstreamPort)] }]);
}

function reverseProxy(upstreamPort) {
  return { handler: 'reverse_proxy', upstreams: [{ dial: `${HOST}:${upstreamPort}` }] };
}

/**
 * gzip: `encode` offering gzip at `level` and zstd (left out, with one warning, on a Node
 * without zstd), with its default preference (zstd, br, gzip), in front of either a
 * `static_response` holding the body (`body`, `contentType`) or a `reverse_proxy` to the upstream.
 */
export function ferryEncodeConfig(port, { level, body, contentType, upstreamPort }) {
  const encode = { handler: 'encode', encodings: { gzip: { level }, zstd: {} } };
  const terminal =
    upstreamPort === undefined
      ? { handler: 'static_response', headers: { 'Content-Type': [contentType] }, body }
      : reverseProxy(upstreamPort);
  return ferryServer(port, [{ handle: [encode, terminal] }]);
}

/** files: file_server with its defaults, from `root`. */
export function ferryFilesConfig(port, root) {
  return ferryServer(port, [{ handle: [{ handler: 'file_server', root }] }]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  process.stdout.write(`${JSON.stringify(ferryConfig(port), null, 2)}\n`);
}
