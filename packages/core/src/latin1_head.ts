import { ServerResponse } from 'node:http';
import { responseField } from './field_store.js';

/**
 * Keeps an HTTP/1.1 head in latin1, one byte per character, whatever the first body chunk is.
 *
 * Node's writer joins a first chunk given as a string to the head and writes both in the chunk's
 * encoding — utf8 unless the caller names another (`OutgoingMessage._send`, nodejs/node#46395);
 * `flushHeaders()` does the same with an empty string. A field holding bytes ≥ 0x80 — an
 * upstream's raw UTF-8 filename passed on by the proxy, a decoded path put in a header by a
 * placeholder — then reaches the client encoded twice (`é`, 0xC3 0xA9, goes out as 0xC3 0x83 0xC2
 * 0xA9). A head of plain ASCII, the common case, is joined to the chunk as Node does.
 */

type WriteCb = (err?: Error | null) => void;
type Send = (data: string | Uint8Array, encoding?: BufferEncoding, callback?: WriteCb, byteLength?: number) => boolean;

/** Node's `_send` and the head state it reads. */
interface NodeOutgoing {
  _header: string | null;
  _headerSent: boolean;
  /** The length of a body given whole to end(), before the head is built. */
  _contentLength: number | null;
  _hasBody: boolean;
}

const nodeSend = (ServerResponse.prototype as unknown as { _send: Send })._send;
const nodeImplicitHeader = (ServerResponse.prototype as unknown as { _implicitHeader: () => void })._implicitHeader;

/**
 * Whether `text` holds a character past ASCII: its UTF-8 form is then longer than it. Node counts
 * that natively, ~4× faster than a regexp over a 150-byte head (the test runs once per response).
 */
function notAscii(text: string): boolean {
  return Buffer.byteLength(text, 'utf8') !== text.length;
}

/** What Node's `_send` does, with a string chunk kept apart from a head that is not all ASCII. */
export function sendKeepingHeadLatin1(
  res: ServerResponse,
  data: string | Uint8Array,
  encoding: BufferEncoding | undefined,
  callback: WriteCb | undefined,
  byteLength: number | undefined,
): boolean {
  const node = res as unknown as NodeOutgoing;
  if (
    typeof data === 'string' &&
    (!encoding || encoding === 'utf8' || encoding === 'utf-8') &&
    !node._headerSent &&
    typeof node._header === 'string' &&
    notAscii(node._header)
  ) {
    // Joined as latin1 when there is nothing to join; else the chunk goes as bytes, after the head.
    if (data === '') encoding = 'latin1';
    else {
      data = Buffer.from(data, 'utf8');
      encoding = undefined;
    }
  }
  return nodeSend.call(res, data, encoding, callback, byteLength);
}

/**
 * Node builds a Content-Disposition value from its bytes read as UTF-8 when it knows the body's
 * length (a body given whole to end(): its `processHeader`, nodejs/node#46528), and then writes
 * the text as latin1: a raw UTF-8 filename (`é`) comes out as one byte, `€` as 0xAC. Called just
 * before Node builds the head: Node is told the length as a field instead, and the value goes out
 * as the bytes it holds.
 */
export function keepDispositionBytes(res: ServerResponse): void {
  const node = res as unknown as NodeOutgoing;
  if (!node._contentLength) return;
  const value = responseField(res, 'content-disposition');
  if (value === undefined || !notAscii(String(value))) return;
  if (node._hasBody && !res.hasHeader('content-length')) res.setHeader('content-length', node._contentLength);
  node._contentLength = null;
}

function sendOwn(
  this: ServerResponse,
  data: string | Uint8Array,
  encoding?: BufferEncoding,
  callback?: WriteCb,
  byteLength?: number,
): boolean {
  return sendKeepingHeadLatin1(this, data, encoding, callback, byteLength);
}

function implicitHeaderOwn(this: ServerResponse): void {
  keepDispositionBytes(this);
  nodeImplicitHeader.call(this);
}

/**
 * Both fixes on a response another server made (toNodeHandler's host: node:http's own, or
 * Express's with its prototype replaced): as its own properties, so they hold whatever its
 * prototype is, for the rest of the response — also for what the host app writes after Ferry's
 * chain falls through to it. Ferry's Http1Writer has them as methods instead.
 */
export function keepHeadBytes(res: ServerResponse): void {
  const own = res as unknown as { _send: Send; _implicitHeader: () => void };
  own._send = sendOwn;
  // Node's end() sets the body's length, then asks for the head through here (not writeHead).
  own._implicitHeader = implicitHeaderOwn;
}
