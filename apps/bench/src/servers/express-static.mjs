// Express 5 + serve-static (what express.static is), with its defaults: ETag, Last-Modified, Range.
import express from 'express';
import serveStatic from 'serve-static';
import { HOST, portFromArgs, ready } from './common.mjs';
import { rootFromEnv } from './site.mjs';

const port = portFromArgs();
const app = express();
app.use(serveStatic(rootFromEnv()));
app.listen(port, HOST, () => ready(port));
