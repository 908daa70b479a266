import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { HttpError } from '@ferry/core';
import { releaseAfterWrite, startReleasing } from '@ferry/core/internal';
import { classify, MidBodyError, RoundTripError } from '../errors.js';
import type { HeaderRecord } from '../hop.js';
import type { OutRequest, ResponseSink } from '../transport.js';
import type { Conn, ConnOwner, H1Pool } from './h1-pool.js';
import { MAX_QUEUED, type ReadBuffer } from './read_buffers.js';
import { checkFraming, chunkHeader, LAST_CHUNK, requestHead } from './h1-request.js';
import { type ResponseEvents, ResponseParser } from './h1-response.js';

/**
 * One request and its response over a pooled HTTP/1.1 connection (h1-pool.ts): the head
 * written in one piece, the body streamed with backpressure (as it came, or chunked when its
 * length is unknown, and never more than its Content-Length), the response parsed as it arrives
 * (h1-response.ts) into the sink. The connection goes back to the pool only when both
 * directions ended on a message boundary; any doubt closes it. `response_header_timeout` counts
 * from the end of the request, as Go's ResponseHeaderTimeout. A request without a body that
 * fails on a reused connection before a byte of answer is sent once more on a new connection:
 * the upstream may have closed it as idle while it was being taken (Go's transport does the same).
 */
export function exchange(pool: H1Pool, host: string, out: OutRequest, sink: ResponseSink, headerTimeout: number): Promise<void> {
  return new Promise((resolve, reject) => new Exchange(pool, host, out, sink, headerTimeout, resolve, reject).start());
}

/** Methods a request may be sent twice with (RFC 9110 §9.2.2 safe ones, Go's isReplayable). */
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Whether a request may go again after its connection failed unanswered: no body, and safe or with an idempotency key. */
function replayable(out: OutRequest): boolean {
  if (out.body !== null) return false;
  return REPLAYABLE.has(out.method) || out.headers['idempotency-key'] !== undefined || out.headers['x-idempotency-key'] !== undefined;
}

const clientGone = () => new RoundTripError('client-gone', 'client went away');

/** The line end after a chunk of a chunked body. */
const CRLF = Buffer.from('\r\n', 'latin1');

function uncork(socket: Socket): void {
  socket.uncork();
}

class Exchange implements ConnOwner, ResponseEvents {
  #conn: Conn | undefined;
  #parser: ResponseParser | undefined;
  #head = '';
  #finished = false;
  #requestSent = false;
  #received = 0;
  #retried = false;
  /** What the response said of the connection (its version, `Connection: close`, its framing). */
  #keepAlive = false;
  #headTimer: NodeJS.Timeout | undefined;
  /** The buffer of the read being parsed: body chunks are lent from it. */
  #lease: ReadBuffer | undefined;
  #unwatch: (() => void) | undefined;
  #detachBody: (() => void) | undefined;

  constructor(
    readonly pool: H1Pool,
    readonly host: string,
    readonly out: OutRequest,
    readonly sink: ResponseSink,
    readonly headerTimeout: number,
    readonly resolve: () => void,
    readonly reject: (err: unknown) => void,
  ) {}

  start(): void {
    const { out } = this;
    if (out.cancel.aborted) {
      this.reject(clientGone());
      return;
    }
    try {
      checkFraming(out.headers, out.body !== null);
      const chunked = out.body !== null && out.headers['content-length'] === undefined;
      this.#head = requestHead(out.method, out.path, out.headers, this.host, chunked, this.pool.settings.keepAlive);
    } catch (err) {
      // A request Ferry will not send says nothing of the upstream: no strike, no other upstream tried.
      this.reject(new HttpError(502, (err as Error).message, { cause: err }));
      return;
    }
    this.#unwatch = out.cancel.watch(() => this.#fail(clientGone()));
    this.#connect();
  }

  #connect(): void {
    const idle = this.pool.takeIdle();
    if (idle) {
      this.#send(idle);
      return;
    }
    this.pool.dial().then(
      (conn) => (this.#finished ? this.pool.release(conn, true) : this.#send(conn)),
      (err: unknown) => this.#fail(err),
    );
  }

  #send(conn: Conn): void {
    this.#conn = conn;
    conn.owner = this;
    this.#parser = new ResponseParser(this, this.out.method === 'HEAD');
    const body = this.out.body;
    if (body === null) {
      conn.socket.write(this.#head, 'latin1');
      this.#sent();
      return;
    }
    // Head and the body's first bytes in one write: a body already read from the client flows on
    // the tick its 'data' listener resumes it, and what the client's socket reads in the rest of
    // this poll phase (the next 64 KiB read libuv makes at once after a full one: a 64 KiB upload
    // and its head are two reads) follows before this uncork runs, in the check phase. Uncorked
    // on the next tick instead, a 64 KiB upload went out in two writes, and the upstream woke for
    // each (apps/bench proxy post-64k, strace: Ferry's writes 3 → 2 a request, the upstream's
    // epoll waits 0.77 → 0.24). The head as bytes: a string among a writev's chunks costs Node's
    // native side a second pass over all of them.
    conn.socket.cork();
    conn.socket.write(Buffer.from(this.#head, 'latin1'));
    this.#detachBody = this.#streamBody(body, conn);
    setImmediate(uncork, conn.socket);
  }

  /** Streams the request body onto the connection; returns the removal of its listeners. */
  #streamBody(body: Readable, conn: Conn): () => void {
    const { socket } = conn;
    const declared = this.out.headers['content-length'];
    const limit = declared === undefined ? -1 : Number(declared);
    let sent = 0;
    const release = startReleasing(body);
    const resume = () => body.resume();
    const onData = (chunk: Buffer) => {
      // An empty chunk would be the chunked body's last one ("0\r\n\r\n") and end it early.
      if (chunk.length === 0) return;
      sent += chunk.length;
      // Bytes past the declared length would be read by the upstream as the next request.
      if (limit !== -1 && sent > limit) {
        this.#fail(new HttpError(400, 'request body longer than its Content-Length'));
        return;
      }
      let ok: boolean;
      const written = release ? releaseAfterWrite(body, chunk) : undefined;
      if (limit !== -1) ok = socket.write(chunk, written);
      else {
        // The framing as bytes too, so the writev holds bytes only.
        socket.cork();
        socket.write(Buffer.from(chunkHeader(chunk.length), 'latin1'));
        socket.write(chunk, written);
        ok = socket.write(CRLF);
        socket.uncork();
      }
      // The upload pauses only once more than MAX_QUEUED waits (read_buffers.ts).
      if (!ok && socket.writableLength > MAX_QUEUED) {
        body.pause();
        socket.once('drain', resume);
      }
    };
    const onEnd = () => {
      if (limit !== -1 && sent < limit) {
        this.#fail(clientGone());
        return;
      }
      if (limit === -1) socket.write(LAST_CHUNK, 'latin1');
      this.#sent();
    };
    // The client's upload stopped short (reset, aborted stream): the upstream must not take it as whole.
    const onClose = () => {
      if (!body.readableEnded) this.#fail(clientGone());
    };
    // A body refused on the way (request_body's 413) is that answer, not a client gone.
    const onError = (err: unknown) => (err instanceof HttpError ? this.#fail(err) : onClose());
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
    body.on('error', onError);
    if (body.readableEnded) onEnd();
    return () => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('close', onClose);
      body.removeListener('error', onError);
      socket.removeListener('drain', resume);
    };
  }

  /** The request is all written: the header timeout starts, and a response already complete can end. */
  #sent(): void {
    if (this.#finished) return;
    this.#requestSent = true;
    this.#detachBody?.();
    this.#detachBody = undefined;
    if (this.#parser!.done) {
      this.#succeed(this.#keepAlive);
      return;
    }
    if (this.headerTimeout > 0 && !this.#parser!.started) {
      this.#headTimer = setTimeout(() => {
        const err = Object.assign(new Error('no response headers within response_header_timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
        this.#fail(err);
      }, this.headerTimeout);
    }
  }

  onData(chunk: Buffer, lease: ReadBuffer): void {
    if (this.#finished) return;
    this.#received += chunk.length;
    let extra: number;
    this.#lease = lease;
    try {
      extra = this.#parser!.feed(chunk);
    } catch (err) {
      this.#fail(err);
      return;
    } finally {
      this.#lease = undefined;
    }
    if (!this.#parser!.done || this.#finished) return;
    // Bytes beyond the response, or an upload still going: the connection is out of step.
    this.#succeed(this.#keepAlive && extra === 0 && this.#requestSent);
  }

  onClose(err: Error | undefined): void {
    if (this.#finished) return;
    try {
      // A reset (an error, no FIN) ends no body: one delimited by the close was cut short by it.
      if (err) throw err;
      this.#parser?.eof();
    } catch (eofErr) {
      const conn = this.#conn!;
      if (this.#received === 0 && conn.reused > 0 && replayable(this.out) && !this.#retried) {
        this.#retry();
        return;
      }
      this.#fail(err ?? eofErr);
      return;
    }
    if (this.#parser?.done) this.#succeed(false);
  }

  #retry(): void {
    this.#retried = true;
    this.#release(false);
    clearTimeout(this.#headTimer);
    this.#headTimer = undefined;
    this.#requestSent = false;
    this.pool.dial().then(
      (conn) => (this.#finished ? this.pool.release(conn, true) : this.#send(conn)),
      (e: unknown) => this.#fail(e),
    );
  }

  informational(status: number, headers: HeaderRecord): void {
    this.sink.informational(status, headers);
  }

  head(status: number, headers: HeaderRecord, statusText: string): void {
    if (this.#headTimer) this.#headTimer = void clearTimeout(this.#headTimer);
    this.sink.head(status, headers, statusText, true);
  }

  body(chunk: Buffer): void {
    if (this.sink.data(chunk, this.#resume, this.#hold)) return;
    this.#conn?.socket.pause();
  }

  /** Keeps the chunk being handed over valid past this read (ResponseSink.data). */
  #hold = (): (() => void) => this.#lease!.hold();

  #resume = (): void => {
    if (!this.#finished) this.#conn?.socket.resume();
  };

  complete(reusable: boolean): void {
    // The rest is judged in onData/onClose once feed() returned: whether bytes followed matters too.
    this.#keepAlive = reusable;
  }

  #release(reusable: boolean): void {
    this.#detachBody?.();
    this.#detachBody = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn) {
      if (conn.socket.isPaused()) conn.socket.resume();
      this.pool.release(conn, reusable);
    }
  }

  #settle(): void {
    this.#finished = true;
    if (this.#headTimer) clearTimeout(this.#headTimer);
    this.#unwatch?.();
  }

  #succeed(reusable: boolean): void {
    this.#settle();
    this.#release(reusable);
    this.sink.end();
    this.resolve();
  }

  #fail(err: unknown): void {
    if (this.#finished) return;
    const started = this.#parser?.started === true;
    this.#settle();
    this.#release(false);
    if (this.out.cancel.aborted)
      this.reject(err instanceof RoundTripError ? err : new RoundTripError('client-gone', 'client went away', { cause: err }));
    else if (err instanceof RoundTripError && err.kind === 'client-gone') this.reject(err);
    else if (err instanceof HttpError && !started) this.reject(err);
    else this.reject(started ? new MidBodyError(err) : classify(err));
  }
}
