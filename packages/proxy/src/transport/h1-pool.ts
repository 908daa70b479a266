import { connect, type Socket } from 'node:net';
import { idleReads, ReadBuffer } from './read_buffers.js';

/**
 * The HTTP/1.1 connections to one upstream: dialled on demand, one request at a time each, kept
 * for reuse after a response that allows it (Go's persistConn pool, without pipelining). Idle
 * connections wait last-in first-out, so a burst's extra connections age out after
 * `idle_timeout` while the warm ones keep serving; one sweep per pool (every quarter of
 * idle_timeout) closes them, rather than a socket timeout armed and cleared per request. A
 * connection that does anything while idle (data, its close) is dropped: an upstream that speaks
 * unasked is out of step with it.
 */

/** One connection and what the exchange on it needs to know. */
export class Conn {
  readonly socket: Socket;
  /** Requests it carried before the current one: a failure with nothing read on a reused connection may be the upstream's idle close. */
  reused = 0;
  /** Where its bytes go while an exchange owns it; unset while idle. */
  owner: ConnOwner | undefined;
  /** When it was last given back (Date.now()). */
  idleSince = 0;
  /** The buffer its next read lands in (read_buffers.ts), given back when it closes; unset: `idleReads`. */
  reading: ReadBuffer | undefined;

  /**
   * Dials; each read lands in a pooled buffer (Node would allocate a new one per read) and goes to
   * `onRead`. Without an owner (dialled, or given back: the next read is a response's first, or
   * unasked) it keeps a buffer only while few others do (read_buffers.ts), else it reads into the
   * shared `idleReads`.
   */
  constructor(host: string, port: number, onRead: (conn: Conn, bytes: number) => void) {
    const onread = {
      buffer: () => {
        this.reading = this.owner === undefined ? ReadBuffer.takeForIdle() : ReadBuffer.take();
        return this.reading?.bytes ?? idleReads;
      },
      // Not `false`: a paused read is the exchange's socket.pause() (backpressure).
      callback: (n: number) => {
        onRead(this, n);
        return true;
      },
    };
    this.socket = connect({ host, port, noDelay: true, onread });
  }
}

/** The exchange using a connection. */
export interface ConnOwner {
  /** Bytes read: lent from `lease`, valid until this returns unless held (`lease.hold()`). */
  onData(chunk: Buffer, lease: ReadBuffer): void;
  /** The connection ended or failed (`err`: why, when known). */
  onClose(err: Error | undefined): void;
}

export interface PoolSettings {
  host: string;
  port: number;
  dialTimeout: number;
  idleTimeout: number;
  keepAlive: boolean;
}

export class H1Pool {
  readonly #idle: Conn[] = [];
  readonly #all = new Set<Conn>();
  #closed = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(readonly settings: PoolSettings) {}

  /** An idle connection if one is alive, else undefined (dial one with `dial`). */
  takeIdle(): Conn | undefined {
    for (let conn = this.#idle.pop(); conn; conn = this.#idle.pop()) {
      if (conn.socket.destroyed || !conn.socket.writable) continue;
      return conn;
    }
    return undefined;
  }

  /** A new connection, connected; rejects with the dial's error (`UND_ERR_CONNECT_TIMEOUT` after dial_timeout). */
  dial(): Promise<Conn> {
    const { host, port, dialTimeout } = this.settings;
    return new Promise((resolve, reject) => {
      const conn = new Conn(host, port, this.#onRead);
      const socket = conn.socket;
      let timer: NodeJS.Timeout | undefined;
      const failed = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', failed);
      if (dialTimeout > 0) {
        timer = setTimeout(
          () =>
            failed(Object.assign(new Error(`no connection within dial_timeout (${dialTimeout} ms)`), { code: 'UND_ERR_CONNECT_TIMEOUT' })),
          dialTimeout,
        );
      }
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', failed);
        this.#wire(conn);
        if (this.#closed) socket.destroy();
        resolve(conn);
      });
    });
  }

  /** Gives a connection back after an exchange: kept when `reusable` (and keep-alive is on), else closed. */
  release(conn: Conn, reusable: boolean): void {
    conn.owner = undefined;
    const socket = conn.socket;
    if (!reusable || !this.settings.keepAlive || this.#closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    conn.reused++;
    conn.idleSince = Date.now();
    this.#idle.push(conn);
    const every = this.settings.idleTimeout / 4;
    if (every > 0 && !this.#sweeper) this.#sweeper = setInterval(() => this.#sweep(), Math.max(10, every)).unref();
  }

  /** Closes the connections idle for idle_timeout or longer (the oldest are first in the list). */
  #sweep(): void {
    const cutoff = Date.now() - this.settings.idleTimeout;
    let stale = 0;
    while (stale < this.#idle.length && this.#idle[stale]!.idleSince <= cutoff) stale++;
    for (const conn of this.#idle.splice(0, stale)) conn.socket.destroy();
    if (this.#idle.length === 0) this.#sweeper = void clearInterval(this.#sweeper);
  }

  /** Closes the idle connections now and the others when their exchange ends. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const conn of this.#all) if (!conn.owner) conn.socket.destroy();
    this.#idle.length = 0;
  }

  /** One read: to the owner, or the connection is dropped when idle; then the buffer is free unless held. */
  #onRead = (conn: Conn, n: number): void => {
    if (!conn.owner) {
      conn.reading?.readDone();
      this.#drop(conn);
      return;
    }
    const lease = conn.reading ?? ReadBuffer.copyOfIdle(n);
    conn.owner.onData(lease.bytes.subarray(0, n), lease);
    lease.readDone();
  };

  /** A connection that spoke or closed while idle: out of step, closed. */
  #drop(conn: Conn): void {
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    conn.socket.destroy();
  }

  /** The listeners a connection keeps for its life: each event goes to its owner, or drops it when idle. */
  #wire(conn: Conn): void {
    const { socket } = conn;
    this.#all.add(conn);
    let error: Error | undefined;
    const drop = () => this.#drop(conn);
    socket.on('error', (err) => {
      error = err;
    });
    socket.on('end', () => (conn.owner ? conn.owner.onClose(undefined) : drop()));
    socket.on('close', () => {
      this.#all.delete(conn);
      conn.reading?.readDone();
      conn.reading = undefined;
      if (conn.owner) conn.owner.onClose(error);
      else drop();
    });
  }
}
