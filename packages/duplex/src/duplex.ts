import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import type { ReadableStream, WritableStream } from 'node:stream/web';
import type { FerryRequest, Handler, ResponseWriter } from '@ferry/core';

/** What a full-duplex handler works with. */
export interface DuplexContext {
  req: FerryRequest;
  res: ResponseWriter;
  /** The request body, chunk by chunk, as it arrives. */
  body: AsyncIterable<Buffer>;
  /** Writes a chunk; resolves once the connection can take more (backpressure). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Puts everything written so far on the wire now (through any wrapper, e.g. encode). */
  flush(): void;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** The request body as a Web ReadableStream (made on first use). */
  readonly readable: ReadableStream<Uint8Array>;
  /** The response body as a Web WritableStream (made on first use); closing it ends the response. */
  readonly writable: WritableStream<Uint8Array>;
}

export interface DuplexOptions {
  /** Status sent at once, before any body byte. Default 200. */
  status?: number;
  /** Headers sent with it. */
  headers?: Record<string, string | string[]>;
}

/** Result a duplex function may return: a Web stream (or Node Readable) that becomes the response body. */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that writes its answer itself returns nothing (void)
type DuplexResult = void | ReadableStream<Uint8Array> | Readable;

/**
 * Writes one chunk and resolves once the connection can take more. Rejects when the client is gone:
 * 'drain' never comes to a closed connection, so waiting for it alone would hang the writer
 * forever; the abort signal and the write's own error end the wait.
 */
function writeChunk(res: ResponseWriter, chunk: string | Uint8Array, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (res.destroyed) return Promise.reject(new Error('the client went away'));
  return new Promise<void>((resolve, reject) => {
    const ok = res.write(chunk, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else once(res as unknown as NodeJS.EventEmitter, 'drain', { signal }).then(() => resolve(), reject);
  });
}

/** A Writable over the response writer, for Web Streams interop and pipelines. */
function responseWritable(res: ResponseWriter, signal: AbortSignal): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      writeChunk(res, chunk, signal).then(() => cb(), cb);
    },
    final(cb) {
      res.end();
      cb();
    },
  });
}

/**
 * A handler that reads the request body while it writes the response — on HTTP/1.1 (full duplex
 * is turned on for the request), h2 and h2c (duplex anyway: a no-op, never an error). The status
 * and headers go out at once, so a client that waits for them before sending never deadlocks.
 */
export function duplex(fn: (ctx: DuplexContext) => DuplexResult | Promise<DuplexResult>, options: DuplexOptions = {}): Handler {
  return async (req, res) => {
    res.enableFullDuplex();
    res.statusCode = options.status ?? 200;
    for (const [k, v] of Object.entries(options.headers ?? {})) res.setHeader(k, v);
    res.flush();
    let readable: ReadableStream<Uint8Array> | undefined;
    let writable: WritableStream<Uint8Array> | undefined;
    const ctx: DuplexContext = {
      req,
      res,
      body: req.body,
      signal: req.signal,
      write: (chunk) => writeChunk(res, chunk, req.signal),
      flush: () => res.flush(),
      get readable() {
        return (readable ??= Readable.toWeb(req.body) as unknown as ReadableStream<Uint8Array>);
      },
      get writable() {
        return (writable ??= Writable.toWeb(responseWritable(res, req.signal)) as unknown as WritableStream<Uint8Array>);
      },
    };
    try {
      const out = await fn(ctx);
      if (out instanceof Readable) {
        for await (const chunk of out) await ctx.write(chunk as Buffer);
      } else if (out && typeof (out as ReadableStream).getReader === 'function') {
        for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) await ctx.write(chunk);
      }
    } catch (err) {
      // The client went away: the read or write that broke ("aborted", "Premature close", an
      // AbortError) broke because of it. Nobody is left to answer and it is no server error, so
      // the handler ends quietly instead of reaching the error log as a 500.
      if (req.signal.aborted || res.destroyed) return;
      throw err;
    }
    if (!res.writableEnded && !res.destroyed) res.end();
  };
}
