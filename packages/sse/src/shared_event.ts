import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ResponseWriter } from '@ferry/core';

/**
 * One event on its way to many streams, formatted once: its text, and the HTTP/1.1 chunk that
 * carries it (made on first use, then the same Buffer for every subscriber).
 */
export class SharedEvent {
  readonly text: string;
  #chunk: Buffer | undefined;

  constructor(text: string) {
    this.text = text;
  }

  /** The bytes `res.write(text)` puts on a chunked HTTP/1.1 response: size line, text, CRLF. */
  get chunk(): Buffer {
    return (this.#chunk ??= Buffer.from(`${Buffer.byteLength(this.text).toString(16)}\r\n${this.text}\r\n`));
  }
}

/** Node's own state of a ServerResponse, read here (not in its public types). */
interface OutgoingState {
  _headerSent?: boolean;
  _hasBody?: boolean;
  chunkedEncoding?: boolean;
  outputData?: unknown[];
}

/**
 * The socket that may take an event's whole chunk directly, or undefined: then the event goes
 * through `res.write`. Going round `res.write` saves, per subscriber, encoding the text again, the
 * socket's cork and its uncorking tick, and a four-part writev (size, CRLF, text, CRLF) for one
 * buffer. The bytes on the wire are the same. Only where nothing could tell the difference: a
 * response of Node's own HTTP/1.1 server (not a wrapper such as encode, not h2) whose head is on
 * the wire, chunked, with a body (not HEAD), not ended, not corked, with nothing of it still held
 * in Node's buffers, on a socket that is serving it (not queued behind an earlier pipelined
 * response). A field Node no longer has reads as "no".
 */
export function directSocket(res: ResponseWriter): Socket | undefined {
  if (!(res instanceof ServerResponse)) return undefined;
  const state = res as unknown as OutgoingState;
  if (state._headerSent !== true || state.chunkedEncoding !== true || state._hasBody !== true || state.outputData?.length !== 0) {
    return undefined;
  }
  const socket = res.socket;
  if (!socket || socket.destroyed || res.writableEnded || res.writableCorked !== 0) return undefined;
  return (socket as Socket & { _httpMessage?: unknown })._httpMessage === res ? socket : undefined;
}
