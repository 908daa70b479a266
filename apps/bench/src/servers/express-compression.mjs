// Express 5 + compression (npm), as an Express app serves compressed JSON: gzip at the
// scenario's level; with a browser's Accept-Encoding it may choose br (its own default quality).
// Usage: node express-compression.mjs PORT
import compression from 'compression';
import express from 'express';
import { HOST, portFromArgs, ready } from './common.mjs';
import { jsonRoute } from './express-json.mjs';
import { GZIP_LEVEL } from './json-body.mjs';

const port = portFromArgs();
const app = express();

app.use(compression({ level: GZIP_LEVEL }));
jsonRoute(app);

app.listen(port, HOST, () => ready(port));
