import { defineModule, HttpError, moduleFactory, z, type Middleware } from '@ferry/core';
import { WebSocketServer } from 'ws';

/**
 * `http.handlers.websocket_echo`: a WebSocket endpoint (HTTP/1.1 Upgrade) that greets the client
 * with how it was reached, then echoes every message. For trying clients and proxies — the
 * embedded default puts it behind `reverse_proxy`.
 */
export const websocketEchoModule = defineModule({
  id: 'http.handlers.websocket_echo',
  description: 'A WebSocket echo endpoint (HTTP/1.1 Upgrade): greets, then echoes each message.',
  config: z.strictObject({
    max_message_bytes: z
      .number()
      .int()
      .min(1)
      .default(1024 * 1024)
      .describe('Largest message accepted, in bytes (1 MiB); a larger one closes the connection with 1009.'),
  }),
  provision(cfg, ctx): Middleware {
    const wss = new WebSocketServer({ noServer: true, maxPayload: cfg.max_message_bytes });
    // On stop, say goodbye (1001 going away) at once: the server waits for taken-over sockets.
    const goodbye = () => {
      for (const client of wss.clients) client.close(1001, 'going away');
    };
    ctx.server.stopping.addEventListener('abort', goodbye, { once: true });
    ctx.onCleanup(() => {
      goodbye();
      wss.close();
    });
    return async (req, res) => {
      if (req.upgrade !== 'websocket' || !res.hijack) throw new HttpError(426, 'this endpoint speaks WebSocket');
      const socket = res.hijack();
      // The socket already holds any bytes the client sent early (core unshifts them at hijack).
      await new Promise<void>((resolve) => {
        wss.handleUpgrade(req.raw as import('node:http').IncomingMessage, socket as import('node:net').Socket, Buffer.alloc(0), (ws) => {
          const via = req.headers.via;
          ws.send(JSON.stringify({ hello: 'ferry', via: typeof via === 'string' ? via : null }));
          ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
          ws.on('error', () => ws.terminate());
          resolve();
        });
      });
    };
  },
});

export const websocketEcho = moduleFactory(websocketEchoModule);
