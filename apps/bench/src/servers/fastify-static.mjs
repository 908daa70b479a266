// Fastify 5 + @fastify/static with its defaults (ETag, Last-Modified, Range), logger off.
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { HOST, portFromArgs, ready } from './common.mjs';
import { rootFromEnv } from './site.mjs';

const port = portFromArgs();
const app = Fastify({ logger: false });
await app.register(fastifyStatic, { root: rootFromEnv() });
await app.listen({ port, host: HOST });
ready(port);
