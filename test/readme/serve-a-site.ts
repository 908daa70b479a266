import { createServer, path, rewrite } from '@ferry/core';
import { encode } from '@ferry/encode';
import { spa } from '@ferry/files';
import { reverseProxy } from '@ferry/proxy';

export const server = createServer({
  listen: process.env.LISTEN ?? '127.0.0.1:8080',
  routes: [
    // Compress whatever the routes below answer (zstd where this Node has it).
    { handle: [encode({ encodings: { zstd: {}, gzip: {} }, prefer: ['zstd', 'gzip'] })] },
    // /api/users → the API as /users.
    {
      match: [path('/api/*')],
      handle: [rewrite({ stripPathPrefix: '/api' }), reverseProxy({ upstreams: [{ dial: process.env.API ?? '127.0.0.1:9000' }] })],
      terminal: true,
    },
    // The app's files; any other path gets index.html, for the app's own router.
    { handle: [spa({ root: process.env.SITE ?? './dist' })] },
  ],
});
await server.listen();
