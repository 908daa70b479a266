import Fastify from 'fastify';
import { toNodeHandler } from '@ferry/core';
import { encode } from '@ferry/encode';

const app = Fastify();
// Ferry's encode in front of every Fastify route: a request Ferry does not answer goes on to
// Fastify (`done`), and what Fastify writes goes through encode.
const compress = toNodeHandler([encode()]);
app.addHook('onRequest', (request, reply, done) => compress(request.raw, reply.raw, done));

app.get('/api/report', async () => ({ rows: Array.from({ length: 500 }, (_, i) => ({ i, ok: true })) }));

await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
export const server = app;
