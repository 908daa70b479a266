import { fileURLToPath } from 'node:url';
import { createServer, path } from '@ferry/core';
import { fileServer, spa } from '@ferry/files';

// This folder holds public/ (index.html, app.js, app.js.gz, docs/) beside this file.
const site = fileURLToPath(new URL('./public', import.meta.url));

export const server = createServer({
  listen: process.env.LISTEN ?? 'localhost:8080',
  routes: [
    // A folder with listings, precompressed sidecars, and drafts and .git hidden.
    {
      match: [path('/docs/*')],
      handle: [fileServer({ root: site, browse: {}, precompressed: { gzip: {} }, hide: ['*.draft', '.git'] })],
      terminal: true,
    },
    // Everything else: the single-page app — its files, and index.html for any other path.
    { handle: [spa({ root: site, precompressed: { gzip: {} } })] },
  ],
});
await server.listen();
