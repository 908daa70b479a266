// The WebSocket echo server of the ws scenario (and, alone, its `direct` row): the ws package,
// every message sent back as it came, binary or text. Usage: node ws-echo.mjs PORT
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const server = createServer((_req, res) => res.writeHead(426, { connection: 'close' }).end());
// No permessage-deflate (ws's server default too): the scenario measures the relay, not zlib.
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  // A client that vanishes mid-run must not crash the server; the harness sees the closed socket.
  socket.on('error', () => socket.terminate());
});
server.listen(port, HOST, () => ready(port));
