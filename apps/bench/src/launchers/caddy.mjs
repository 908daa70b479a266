// Caddy (Debian package `caddy`) as a contender: `caddy run` in the foreground with a JSON
// config, admin endpoint off, nothing persisted outside the run's directory.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST } from '../servers/common.mjs';
import { findPeer, peerDir } from './peer.mjs';

/**
 * A Caddy contender whose one route runs `handlers(ctx)` (Caddy handler objects; ctx.upstream.port
 * when it fronts an upstream). `what` goes into the label.
 */
export function caddyContender({ id, what, handlers }) {
  let caddy;
  return {
    id,
    label: () => `caddy ${caddy.version} (${what})`,
    prepare() {
      caddy = findPeer('caddy', 'caddy', ['version'], (out) => /v?(\d+\.\d+\.\d+)/.exec(out)?.[1]);
      return caddy.skip ? { skip: caddy.skip } : undefined;
    },
    start(port, ctx) {
      const dir = peerDir(ctx.workDir, 'caddy', port);
      const file = join(dir, 'caddy.json');
      writeFileSync(file, JSON.stringify(caddyConfig(port, dir, handlers(ctx))));
      // Caddy keeps its data and autosaved config under $HOME / $XDG_*: keep them in the run's directory.
      const env = { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
      return { command: caddy.path, args: ['run', '--config', file], env };
    },
  };
}

function caddyConfig(port, dir, handle) {
  return {
    admin: { disabled: true, config: { persist: false } },
    logging: { logs: { default: { level: 'ERROR' } } },
    storage: { module: 'file_system', root: dir },
    apps: {
      http: {
        servers: {
          bench: { listen: [`${HOST}:${port}`], protocols: ['h1'], automatic_https: { disable: true }, routes: [{ handle }] },
        },
      },
    },
  };
}

/**
 * Caddy's reverse_proxy to the upstream (WebSocket upgrades included, as Caddy does by default).
 * Idle keep-alive connections per host raised from Caddy's 32 to 64, as nginx's `keepalive 64`:
 * with 50 client connections, 32 would make Caddy open and close upstream connections under load.
 */
export function caddyReverseProxy(upstreamPort) {
  return {
    handler: 'reverse_proxy',
    upstreams: [{ dial: `${HOST}:${upstreamPort}` }],
    transport: { protocol: 'http', keep_alive: { max_idle_conns_per_host: 64 } },
  };
}

/**
 * Caddy's encode with gzip at `level` and zstd, preferring zstd then gzip (what the Caddyfile's
 * `encode zstd gzip` means). Caddy 2.6's zstd has no level setting: its default (about level 3).
 */
export function caddyEncode(level) {
  return { handler: 'encode', encodings: { gzip: { level }, zstd: {} }, prefer: ['zstd', 'gzip'] };
}
