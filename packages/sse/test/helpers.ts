/**
 * Real-socket plumbing of the SSE tests' own (the shared pieces are in @ferry/test-kit): a raw
 * client that stalls after the head, the server starter bound to @ferry/core's createServer, and
 * the kit's EventSource-semantics client.
 */
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { createServer } from '@ferry/core';
import { defer, deferred } from '@ferry/test-kit/lifecycle';
import { serverStarter } from '@ferry/test-kit/servers';
export { defer, deferred };

/** A started Ferry server on 127.0.0.1, logging nothing, closed after the test. */
export const startServer = serverStarter(createServer);

/** A raw TCP connection that sent `request` and read the response head, then reads nothing more. */
export async function rawStalledGet(url: string, path: string): Promise<{ socket: Socket; head: string }> {
  const u = new URL(url);
  const socket = netConnect({ host: u.hostname, port: Number(u.port) });
  defer(() => socket.destroy());
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  // From here on the client reads nothing: the kernel's buffers fill, then the server's.
  socket.pause();
  return { socket, head: head.slice(0, head.indexOf('\r\n\r\n')) };
}

export { EventSourceClient, EventStreamParser, parseAll, type ReceivedEvent } from '@ferry/test-kit/sse-client';
