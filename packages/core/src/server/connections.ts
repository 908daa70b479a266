import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Every connection one server holds — accepted sockets, h2 sessions, connections a handler took
 * over — so a stop reaches all of them, even those that never sent a request.
 */
export class Connections {
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<Http2Session>();
  readonly #hijacked = new Set<Duplex>();
  #hijackedGone: (() => void) | undefined;
  /** Set once the server stops: a new session closes at once, a response closes its connection. */
  closing = false;

  /** An accepted TCP connection, whatever protocol it will speak. */
  addSocket(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  addSession(session: Http2Session): void {
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
    if (this.closing) session.close();
  }

  /** A connection a handler took over: it is no request any more, but a stop still waits for it. */
  addHijacked(conn: Duplex): void {
    this.#hijacked.add(conn);
    conn.once('close', () => {
      this.#hijacked.delete(conn);
      this.#hijackedGone?.();
    });
  }

  /** Tells every h2 session to finish its streams and take no more (GOAWAY). */
  closeSessions(): void {
    for (const s of this.#sessions) s.close();
  }

  /** Resolves once every taken-over connection has closed, or at `deadline` (a `Date.now()` time). */
  async hijackedClosed(deadline: number): Promise<void> {
    if (this.#hijacked.size === 0 || Date.now() >= deadline) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadline - Date.now());
      this.#hijackedGone = () => {
        if (this.#hijacked.size > 0) return;
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Ends whatever is still open: sessions, taken-over connections, then every socket. */
  destroyAll(): void {
    for (const s of this.#sessions) {
      try {
        s.destroy();
      } catch {
        // Node asserts when destroying a session over a JS stream (our h2c ReplaySocket) at some
        // states; the TCP sockets below are destroyed anyway.
      }
    }
    for (const s of this.#hijacked) s.destroy();
    for (const s of this.#sockets) s.destroy();
  }
}
