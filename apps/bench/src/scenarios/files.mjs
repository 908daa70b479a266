// files: static files of 1 KiB, 100 KiB and 10 MiB from one folder, by Ferry's file_server and by
// what users run instead (Express + serve-static, Fastify + @fastify/static), with Caddy's
// file_server and nginx as references. Every contender serves the same folder with its defaults
// (ETag, Last-Modified, Range support), and each answer is checked byte for byte before it is measured.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyProblems, fetchOnce, headerSummary, wrongAnswer } from '../http-check.mjs';
import { caddyContender } from '../launchers/caddy.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { nginxStaticContender } from '../launchers/nginx.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { ferryFilesConfig } from '../servers/ferry-config.mjs';
import { FILES, siteRoot } from '../servers/site.mjs';
import { driveWrk } from '../wrk.mjs';

const root = (ctx) => siteRoot(ctx.workDir);

const cases = FILES.map((f) => ({
  id: f.id,
  title: `GET, a ${f.size.toLocaleString('en-US')}-byte file`,
  path: f.path,
}));

/** The body must be the file, byte for byte, with a validator as every contender sends one. */
async function verify({ contender, server, kase, ctx }) {
  const res = await fetchOnce(`${server.url}${kase.path}`);
  const problems = bodyProblems(res, readFileSync(join(root(ctx), kase.path.slice(1))));
  if (!res.headers.etag && !res.headers['last-modified']) problems.push('neither ETag nor Last-Modified');
  if (res.headers['content-encoding']) problems.push(`Content-Encoding ${res.headers['content-encoding']} (files are sent as they are)`);
  if (problems.length) throw wrongAnswer(contender.id, `GET ${kase.path}`, problems);
  return { summary: headerSummary(res) };
}

/** A Node server file given the site's folder in $FILES_ROOT. */
const withRoot = (file) => {
  const start = nodeServer(file);
  return (port, ctx) => ({ ...start(port, ctx), env: { FILES_ROOT: root(ctx) } });
};

export const files = {
  id: 'files',
  title: 'static files from one folder: 1 KiB, 100 KiB and 10 MiB over HTTP/1.1 keep-alive',
  summary: 'static files (1 KiB, 100 KiB, 10 MiB): file_server vs serve-static, @fastify/static, Caddy, nginx',
  unit: 'req/s',
  baseline: 'express',
  baselineLabel: 'express + serve-static',
  pinned: true,
  threads: 1,
  cases,
  verify,
  drive: driveWrk,
  contenders: [
    {
      id: 'express',
      label: `express ${versionOf('express')} + serve-static ${versionOf('serve-static')}`,
      start: withRoot('express-static.mjs'),
    },
    ferryContender({ id: 'ferry', what: 'file_server', config: (port, ctx) => ferryFilesConfig(port, root(ctx)) }),
    {
      id: 'fastify',
      label: `fastify ${versionOf('fastify')} + @fastify/static ${versionOf('@fastify/static')}`,
      start: withRoot('fastify-static.mjs'),
    },
    caddyContender({ id: 'caddy', what: 'file_server', handlers: (ctx) => [{ handler: 'file_server', root: root(ctx) }] }),
    nginxStaticContender({ id: 'nginx', what: 'root, sendfile on, 1 worker', root }),
  ],
  ratios: [
    ['ferry', 'express', 'ferry / express + serve-static (goal ≥ 1.2)'],
    ['ferry', 'fastify', 'ferry / fastify + @fastify/static (goal ≥ 1.0)'],
    ['ferry', 'caddy', 'ferry / caddy file_server'],
    ['ferry', 'nginx', 'ferry / nginx'],
  ],
};
