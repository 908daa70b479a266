import { createServer } from '@ferry/core';
import { encode } from '@ferry/encode';

export const server = createServer({
  listen: process.env.LISTEN ?? 'localhost:8080',
  routes: [
    {
      handle: [
        // zstd where this Node's zlib has it (22.15+, 23.8+); elsewhere it is left out, with one warning.
        encode({ encodings: { zstd: {}, br: { level: 5 }, gzip: {} }, minimumLength: 1024 }),
        async (req, res) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ path: req.path, squares: Array.from({ length: 500 }, (_, i) => i * i) }));
        },
      ],
    },
  ],
});
await server.listen();
