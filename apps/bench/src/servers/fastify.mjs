// Fastify 5 with one route, as in Fastify's own benchmarks (logger off, synchronous reply).
import Fastify from 'fastify';
import { BODY, CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const app = Fastify({ logger: false });

app.get('/', (_request, reply) => {
  reply.type(CONTENT_TYPE).send(BODY);
});

await app.listen({ port, host: HOST });
ready(port);
