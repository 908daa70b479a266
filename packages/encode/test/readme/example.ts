import { createServer } from '@ferry/core';
import { encode, zstdAvailable } from '@ferry/encode';

export const server = createServer({
  listen: process.env.LISTEN ?? 'localhost:8080',
  routes: [
    {
      handle: [
        // zstd only where this Node's zlib has it (22.15+, 23.8+); asking for it elsewhere is a config error.
        encode({ encodings: { ...(zstdAvailable ? { zstd: {} } : {}), br: { level: 5 }, gzip: {} }, minimumLength: 1024 }),
        async (req, res) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ path: req.path, squares: Array.from({ length: 500 }, (_, i) => i * i) }));
        },
      ],
    },
  ],
});
await server.listen();
