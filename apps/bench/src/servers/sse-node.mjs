// sse-fanout's baseline: a hand-written fan-out on raw node:http. GET /sub holds a
// text/event-stream open; POST /pub sends its body to every subscriber as one event, formatted
// once. Usage: node sse-node.mjs PORT
import { createServer } from 'node:http';
import { HOST, portFromArgs, ready } from './common.mjs';

const port = portFromArgs();
const subscribers = new Set();

createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/sub') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    subscribers.add(res);
    res.once('close', () => subscribers.delete(res));
    return;
  }
  if (req.method === 'POST' && req.url === '/pub') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const event = `data: ${body}\n\n`;
      for (const sub of subscribers) sub.write(event);
      res.writeHead(202).end();
    });
    return;
  }
  res.writeHead(404).end();
}).listen(port, HOST, () => ready(port));
