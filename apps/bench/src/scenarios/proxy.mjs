// proxy: every contender forwards to the same raw node:http upstream (servers/upstream.mjs),
// started fresh with it and pinned to the same core, so each row's CPU is the proxy's plus the
// upstream's. `direct` is the upstream alone: the ceiling every proxy is a fraction of.
import { randomBytes } from 'node:crypto';
import { bodyProblems, fetchOnce, headerSummary, wrongAnswer } from '../http-check.mjs';
import { caddyContender, caddyReverseProxy } from '../launchers/caddy.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { nginxContender } from '../launchers/nginx.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { BODY } from '../servers/common.mjs';
import { ferryProxyConfig } from '../servers/ferry-config.mjs';
import { deterministicBytes, LARGE, PATHS, uploadAnswer } from '../servers/payloads.mjs';
import { driveWrk, POST_SCRIPT } from '../wrk.mjs';

const upstream = nodeServer('upstream.mjs');

/** A request through the contender and what must come back, byte for byte. */
const check = (what, path, expected, init) => ({ what, path, expected, init });

/** The sub-cases; each is verified with its `checks` before it is measured. */
const cases = [
  { id: 'get-13b', title: 'GET, a 13-byte response', path: PATHS.hello, checks: () => [check('GET /hello', PATHS.hello, BODY)] },
  {
    id: 'get-64k',
    title: 'GET, a 64 KiB response',
    path: PATHS.large,
    checks: () => [check('GET /64k', PATHS.large, deterministicBytes(LARGE))],
  },
  {
    id: 'post-64k',
    title: 'POST with a 64 KiB body, a 20-byte response',
    path: PATHS.upload,
    script: POST_SCRIPT,
    scriptArgs: [LARGE],
    // The upload as wrk sends it must arrive whole; a random body sent to the echo path must come back unchanged.
    checks: () => {
      const body = randomBytes(LARGE);
      const post = (payload) => ({ method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: payload });
      return [
        check('POST /upload', PATHS.upload, uploadAnswer(LARGE), post(Buffer.alloc(LARGE, 'x'))),
        check('POST /echo (random bytes)', PATHS.echo, body, post(body)),
      ];
    },
  },
];

async function verify({ contender, server, kase }) {
  let first;
  for (const { what, path, expected, init } of kase.checks()) {
    const res = await fetchOnce(`${server.url}${path}`, init);
    const problems = bodyProblems(res, expected);
    if (problems.length) throw wrongAnswer(contender.id, what, problems);
    first ??= res;
  }
  return { summary: headerSummary(first) };
}

/** A contender that fronts a fresh upstream of its own, on the same core. */
const proxying = (contender) => ({ ...contender, upstream });

export const proxy = {
  id: 'proxy',
  title: 'reverse proxy to a raw node:http upstream over HTTP/1.1 keep-alive (proxy and upstream on one core)',
  summary: 'reverse proxies to one raw node:http upstream, pinned together; a 13-byte GET, a 64 KiB GET, a 64 KiB POST',
  unit: 'req/s',
  baseline: 'direct',
  baselineLabel: 'direct',
  pinned: true,
  threads: 1,
  cases,
  verify,
  drive: driveWrk,
  /** The CPU column counts proxy and upstream; this one the proxy alone. */
  ownCpuTitle: "proxy's own CPU per request",
  contenders: [
    { id: 'direct', label: (ctx) => `direct: the upstream alone (node:http ${ctx.nodeVersion})`, start: upstream },
    proxying(ferryContender({ id: 'ferry', what: 'reverse_proxy', config: (port, ctx) => ferryProxyConfig(port, ctx.upstream.port) })),
    proxying({ id: 'http-proxy', label: `http-proxy ${versionOf('http-proxy')} (keep-alive agent)`, start: nodeServer('http-proxy.mjs') }),
    proxying({ id: 'pipe', label: 'hand-written http.request pipe (keep-alive agent)', start: nodeServer('pipe-proxy.mjs') }),
    proxying({ id: 'floor', label: 'the floor of a node:http proxy (not a usable proxy)', start: nodeServer('floor-proxy.mjs') }),
    proxying(caddyContender({ id: 'caddy', what: 'reverse_proxy', handlers: (ctx) => [caddyReverseProxy(ctx.upstream.port)] })),
    proxying(nginxContender({ id: 'nginx', what: 'proxy_pass, upstream keepalive 64, 1 worker' })),
  ],
  ratios: [
    ['ferry', 'http-proxy', 'ferry / http-proxy'],
    ['ferry', 'caddy', 'ferry / caddy'],
    ['ferry', 'pipe', 'ferry / hand-written pipe'],
    ['ferry', 'nginx', 'ferry / nginx'],
    ['ferry', 'floor', 'ferry / the floor of a node:http proxy'],
    // How far any proxy on node:http's server can get: the floor's own ratios.
    ['floor', 'http-proxy', 'floor / http-proxy'],
    ['floor', 'caddy', 'floor / caddy'],
  ],
};
