import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { defer } from '@ferry/test-kit/lifecycle';

/** A raw TCP client for byte-level HTTP/1.1 tests: every byte received so far, and a bounded wait. */
export interface RawClient {
  socket: Socket;
  /** What arrived so far (latin1). */
  received(): string;
  /** Resolves with everything received once `test` holds; rejects after `ms`, or when the socket closed first. */
  waitFor(test: (all: string) => boolean, ms?: number): Promise<string>;
  /** Resolves with everything received once the server closed the connection; rejects after `ms`. */
  closed(ms?: number): Promise<string>;
}

export async function rawClient(url: string): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  defer(() => socket.destroy());
  await once(socket, 'connect');
  let received = '';
  let ended = false;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (received += d));
  socket.on('close', () => (ended = true));
  const wait = (test: (all: string) => boolean, ms: number, failOnClose: boolean) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`not within ${ms}ms; received ${JSON.stringify(received.slice(0, 500))}`)), ms);
      const check = () => {
        if (test(received)) finish();
        else if (failOnClose && ended) finish(new Error(`closed; received ${JSON.stringify(received.slice(0, 500))}`));
      };
      const finish = (err?: Error) => {
        clearTimeout(timer);
        socket.off('data', check).off('close', check);
        if (err) reject(err);
        else resolve(received);
      };
      socket.on('data', check).on('close', check);
      check();
    });
  return {
    socket,
    received: () => received,
    waitFor: (test, ms = 3000) => wait(test, ms, true),
    closed: (ms = 3000) => wait(() => ended, ms, false),
  };
}
