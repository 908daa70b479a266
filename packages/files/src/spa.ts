import { defineModule, moduleFactory, z } from '@ferry/core';
import { fileServerShape, validateFileServer } from './config.js';
import { FileServer } from './file_server.js';
import { cleanRequestPath } from './paths.js';

/**
 * `spa({ root, index })`: a single-page app — a file that exists is served as it is, any other
 * path gets the index file (200), so the app's client-side router sees every URL. Caddy writes
 * this as `try_files {path} /index.html` (a `file` matcher and a `rewrite`) in front of
 * `file_server`; here it is one handler in code, served by the file server's own lookup.
 * Code only: it has no config name (in config, write the `file` matcher and `rewrite`).
 */
const config = z.strictObject({
  ...fileServerShape,
  index: z.string().optional().meta({ description: 'The file (under root) served for paths that find no file.', default: 'index.html' }),
});

export const spaModule = defineModule({
  id: 'http.handlers.ferry_spa',
  description: 'Code only (spa()): serves files from root, and the index file for any path that finds none.',
  config,
  validate(cfg) {
    const problems = validateFileServer(cfg);
    const index = cleanRequestPath(cfg.index ?? 'index.html');
    if (index === undefined || index === '/' || index.endsWith('/')) problems.push(`index: "${cfg.index}" is not a file under root`);
    return problems;
  },
  async provision(cfg, ctx) {
    const { index, ...options } = cfg;
    const server = new FileServer(options, ctx, cleanRequestPath(index ?? 'index.html'));
    await server.checkRoot(ctx);
    return server.middleware;
  },
});

/** A single-page app from `root`: its files, and `index` (index.html) for every other path. */
export const spa = moduleFactory(spaModule);
