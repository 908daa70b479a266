// Fastify 5 with the routes scenario's table (1 or 1,000 routes: routes-table.mjs), logger off.
// A prefix route is Fastify's wildcard `/route/0/*`.
import Fastify from 'fastify';
import { CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';
import { countFromArgs, routeTable } from './routes-table.mjs';

const port = portFromArgs();
const app = Fastify({ logger: false });

for (const { kind, path, body } of routeTable(countFromArgs())) {
  app.get(kind === 'prefix' ? `${path}/*` : path, (_request, reply) => {
    reply.type(CONTENT_TYPE).send(body);
  });
}

await app.listen({ port, host: HOST });
ready(port);
