// The Express route the gzip and interop scenarios compress: the 102,602-byte JSON body, as an
// Express app sends it. One definition, so that every contender in front of it serves the same route.
import { JSON_BODY, JSON_TYPE } from './json-body.mjs';

const body = Buffer.from(JSON_BODY);

/** GET /data.json on `app`. */
export function jsonRoute(app) {
  app.get('/data.json', (_req, res) => {
    res.type(JSON_TYPE).send(body);
  });
}
