/**
 * The backend the proxy README examples send to: an HTTP server answering with what it received,
 * and a WebSocket echo on the same port. Started on an ephemeral port before the example loads
 * (`process.env.API`), closed after the file's tests.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';

export function useBackend(): void {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, method: req.method, host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'] }));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    process.env.API = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
}

/** 50 messages of growing size over a WebSocket at `url` (through the proxy to the echo): each comes back byte for byte. */
export async function expectWebSocketEcho(url: string): Promise<void> {
  const ws = new WebSocket(url);
  try {
    await once(ws, 'open');
    for (let i = 0; i < 50; i++) {
      const message = randomBytes(1 + i * 331);
      ws.send(message);
      const [echo] = (await once(ws, 'message')) as [Buffer];
      expect(echo.equals(message)).toBe(true);
    }
  } finally {
    ws.terminate();
  }
}
