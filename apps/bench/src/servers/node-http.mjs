// The baseline: Node's own http server with nothing on top. Every ratio is relative to this.
import { createServer } from 'node:http';
import { BODY, CONTENT_TYPE, HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();

createServer((_req, res) => {
  // setHeader + end(body) rather than writeHead: Node then sets Content-Length itself
  // instead of falling back to chunked encoding, which is what the frameworks send too.
  res.setHeader('content-type', CONTENT_TYPE);
  res.end(BODY);
}).listen(port, HOST, () => ready(port));
