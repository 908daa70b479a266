// sse-fanout: better-sse on Express 5, its own Channel doing the fan-out. Usage: node sse-better.mjs PORT
import { createChannel, createSession } from 'better-sse';
import express from 'express';
import { HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const channel = createChannel();
const app = express();

app.get('/sub', async (req, res) => {
  const session = await createSession(req, res, { keepAlive: 15_000, serializer: String });
  channel.register(session);
});
app.post('/pub', express.text({ type: '*/*' }), (req, res) => {
  channel.broadcast(req.body, 'message');
  res.status(202).end();
});

app.listen(port, HOST, () => ready(port));
