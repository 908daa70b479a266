import express from 'express';
import { toNodeHandler } from '@ferry/core';
import { encode } from '@ferry/encode';

const app = express();
// Ferry's encode in front of every Express route: gzip, br or zstd as the client prefers, and
// event streams flushed event by event (no `res.flush()` needed).
app.use(toNodeHandler([encode()]));

app.get('/api/report', (_req, res) => {
  res.json({ rows: Array.from({ length: 500 }, (_, i) => ({ i, ok: true })) });
});

app.get('/events', (req, res) => {
  res.setHeader('content-type', 'text/event-stream');
  res.flushHeaders();
  const timer = setInterval(() => res.write(`data: ${new Date().toISOString()}\n\n`), 1000);
  req.on('close', () => clearInterval(timer));
});

export const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
