// nginx (Debian package `nginx`) as a contender: not the system service, but its own master
// process in the foreground (`daemon off`) with one worker, a config, pid file and temp paths
// in the run's directory. Pinned like every server (the worker inherits the master's core).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST } from '../servers/common.mjs';
import { findPeer, peerDir } from './peer.mjs';

/** An nginx contender proxying everything to the upstream; `websocket` passes upgrades on. */
export function nginxContender({ id, what, websocket = false }) {
  let nginx;
  return {
    id,
    label: () => `nginx ${nginx.version} (${what})`,
    prepare() {
      nginx = findPeer('nginx', 'nginx', ['-v'], (out) => /nginx\/(\S+)/.exec(out)?.[1]);
      return nginx.skip ? { skip: nginx.skip } : undefined;
    },
    start(port, ctx) {
      const dir = peerDir(ctx.workDir, 'nginx', port);
      const file = join(dir, 'nginx.conf');
      writeFileSync(file, nginxConfig({ port, upstreamPort: ctx.upstream.port, dir, websocket }));
      return { command: nginx.path, args: ['-p', dir, '-c', file, '-e', 'stderr'], env: {} };
    },
  };
}

/**
 * The proxy as nginx's documentation tunes it for keep-alive upstreams: an `upstream` block with
 * `keepalive 64`, HTTP/1.1 and an empty Connection header. Buffers large enough that a 64 KiB
 * request or response stays in memory (nginx's defaults would write it to a temp file), and no
 * per-connection request cap (nginx closes a client connection after 1,000 requests by default;
 * Node's servers never do).
 */
function nginxConfig({ port, upstreamPort, dir, websocket }) {
  const connection = websocket
    ? 'proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection "upgrade";\n      proxy_read_timeout 1h;'
    : 'proxy_set_header Connection "";';
  // As root, the worker would otherwise run as nobody, who cannot enter the run's directory.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  client_body_buffer_size 128k;
  proxy_buffer_size 16k;
  proxy_buffers 8 16k;
  upstream bench { server ${HOST}:${upstreamPort}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen ${HOST}:${port};
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      ${connection}
    }
  }
}
`;
}

/** An nginx contender serving the files of `root(ctx)` (the files scenario), sendfile on, as distributions ship it. */
export function nginxStaticContender({ id, what, root }) {
  let nginx;
  return {
    id,
    label: () => `nginx ${nginx.version} (${what})`,
    prepare() {
      nginx = findPeer('nginx', 'nginx', ['-v'], (out) => /nginx\/(\S+)/.exec(out)?.[1]);
      return nginx.skip ? { skip: nginx.skip } : undefined;
    },
    start(port, ctx) {
      const dir = peerDir(ctx.workDir, 'nginx', port);
      const file = join(dir, 'nginx.conf');
      writeFileSync(file, nginxStaticConfig({ port, dir, root: root(ctx) }));
      return { command: nginx.path, args: ['-p', dir, '-c', file, '-e', 'stderr'], env: {} };
    },
  };
}

function nginxStaticConfig({ port, dir, root }) {
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `${user}
daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 1000000;
  sendfile on;
  default_type application/octet-stream;
  server {
    listen ${HOST}:${port};
    root ${root};
  }
}
`;
}
