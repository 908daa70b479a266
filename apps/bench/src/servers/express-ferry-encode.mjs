// Express 5 with Ferry's encode in front of its routes, as @ferry/encode's README shows:
// toNodeHandler's chain answers nothing itself, so each request goes on to Express (`next()`)
// and what the route writes goes through encode, gzip at the scenario's level.
// Usage: node express-ferry-encode.mjs PORT
import express from 'express';
import { HOST, portFromArgs, ready } from './common.mjs';
import { jsonRoute } from './express-json.mjs';
import { importFerry } from './ferry-packages.mjs';
import { GZIP_LEVEL } from './json-body.mjs';

const { toNodeHandler } = await importFerry('@ferry/core');
const { encode } = await importFerry('@ferry/encode');

const port = portFromArgs();
const app = express();

app.use(toNodeHandler({ logger: false, handler: [encode({ encodings: { gzip: { level: GZIP_LEVEL } } })] }));
jsonRoute(app);

app.listen(port, HOST, () => ready(port));
