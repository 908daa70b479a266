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
type DuplexResult = void | ReadableStream<Uint8Array> | Readable;

/** A Writable over the response writer, for Web Streams interop and pipelines. */
function responseWritable(res: ResponseWriter): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (res.write(chunk)) cb();
      else res.once('drain', () => cb());
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
      async write(chunk) {
        if (res.destroyed) throw new Error('the client went away');
        if (!res.write(chunk)) await once(res as unknown as NodeJS.EventEmitter, 'drain', { signal: req.signal });
      },
      flush: () => res.flush(),
      get readable() {
        return (readable ??= Readable.toWeb(req.body) as unknown as ReadableStream<Uint8Array>);
      },
      get writable() {
        return (writable ??= Writable.toWeb(responseWritable(res)) as unknown as WritableStream<Uint8Array>);
      },
    };
    const out = await fn(ctx);
    if (out instanceof Readable) {
      for await (const chunk of out) await ctx.write(chunk as Buffer);
    } else if (out && typeof (out as ReadableStream).getReader === 'function') {
      for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) await ctx.write(chunk);
    }
    if (!res.writableEnded && !res.destroyed) res.end();
  };
}
