// Express 5, a reference row: with its defaults (ETag and X-Powered-By on), as most apps run it.
import express from 'express';
import { BODY, CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const app = express();

app.get('/', (_req, res) => {
  res.type(CONTENT_TYPE).send(BODY);
});

app.listen(port, HOST, () => ready(port));
