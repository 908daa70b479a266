// Fastify 5 + @fastify/compress: gzip at the scenario's level; with a browser's Accept-Encoding
// it may choose zstd or br (its own defaults). Usage: node fastify-compress.mjs PORT
import compress from '@fastify/compress';
import Fastify from 'fastify';
import { HOST, portFromArgs, ready } from './common.mjs';
import { GZIP_LEVEL, JSON_BODY, JSON_TYPE } from './json-body.mjs';

const port = portFromArgs();
const body = Buffer.from(JSON_BODY);
const app = Fastify({ logger: false });

await app.register(compress, { zlibOptions: { level: GZIP_LEVEL } });
app.get('/data.json', (_request, reply) => {
  reply.type(JSON_TYPE).send(body);
});

await app.listen({ port, host: HOST });
ready(port);
