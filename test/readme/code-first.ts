import { createServer, method, path, staticResponse, type Middleware } from '@ferry/core';

// A custom middleware: stamps every response, then hands the request on.
const poweredBy: Middleware = async (req, res, next) => {
  res.setHeader('x-powered-by', 'ferry');
  await next(req, res);
};

export const server = createServer({
  listen: process.env.LISTEN ?? 'localhost:8080',
  routes: [
    { handle: [poweredBy] },
    {
      match: [[method('GET'), path('/api/*')]],
      handle: [async (req, res) => void res.end(JSON.stringify({ path: req.path }))],
      terminal: true,
    },
    { handle: [staticResponse({ body: 'Hello from Ferry!' })] },
  ],
});
await server.listen();
