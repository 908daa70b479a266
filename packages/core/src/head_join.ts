import { ServerResponse } from 'node:http';

type WriteCb = (err?: Error | null) => void;

/** Node's head state, queue and raw write, as its `_send` uses them. */
interface NodeOutgoing {
  _header: string | null;
  _headerSent: boolean;
  chunkedEncoding: boolean;
  outputData: { data: Uint8Array; encoding: undefined; callback: null }[];
  outputSize: number;
  _onPendingData(bytes: number): void;
  _writeRaw(data: Uint8Array, encoding: BufferEncoding | undefined, callback: WriteCb | undefined): boolean;
}

/** A chunk of no bytes: end()'s empty send, as bytes. */
const NOTHING = Buffer.alloc(0);

/**
 * The largest first body chunk that is copied behind the head. Copying a few KiB costs less than
 * the writev it saves: Node queues a head and a byte chunk as two chunks (and `end()` a third, empty
 * one for its callback), and its native writev reads each chunk and its encoding back from a
 * JavaScript array, twice: ~6,000 instructions a response, measured with callgrind on the proxy's
 * 13-byte answer. A larger chunk goes beside the head as Node sends it.
 */
export const JOIN_LIMIT = 16 * 1024;

/**
 * The head and a small first body chunk given as bytes, in one buffer, the head marked sent (Node
 * joins a string chunk to the head itself; a byte chunk it queues apart). Undefined when this is
 * not the first chunk or not a small byte chunk: Node's send applies.
 *
 * The bytes are Node's: the head as latin1 (Node checked that each of its characters is below
 * U+0100), then the chunk. The chunk is copied, so a caller that lends it (`lendable`) may reuse
 * it once its callback ran, as before.
 */
export function joinHead(res: ServerResponse, data: string | Uint8Array): Buffer | undefined {
  const node = res as unknown as NodeOutgoing;
  const head = node._header;
  if (typeof data === 'string' || data.byteLength > JOIN_LIMIT || node._headerSent || typeof head !== 'string') return undefined;
  return headWith(node, head, data);
}

/** The head and what follows it (bytes, or a latin1 string) copied into one buffer, the head marked sent. */
function headWith(node: NodeOutgoing, head: string, data: string | Uint8Array): Buffer {
  const text = typeof data === 'string';
  const joined = Buffer.allocUnsafe(head.length + (text ? data.length : data.byteLength));
  joined.write(head, 0, 'latin1');
  if (text) joined.write(data, head.length, 'latin1');
  else joined.set(data, head.length);
  node._headerSent = true;
  return joined;
}

/** Node's raw write: to the socket, or queued until the response has one. */
export function writeRaw(res: ServerResponse, data: Uint8Array, callback: WriteCb | undefined): boolean {
  return (res as unknown as NodeOutgoing)._writeRaw(data, undefined, callback);
}

/**
 * Node's no-op write callback: what its end() gives the body's send when an empty send carrying
 * end's own callback follows (every Node before 24; on 24 and later only when the body is not the
 * final write: otherwise the body's send carries the finish callback and nothing follows). Found
 * once by watching what a write passes to `_send`; undefined if that fails, and then no send is
 * held.
 */
export const NODE_NOP: unknown = (() => {
  let seen: unknown;
  class Probe extends ServerResponse {
    _send(_data: unknown, _encoding: unknown, callback: unknown): boolean {
      seen = callback;
      return true;
    }
  }
  try {
    new Probe({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as never).write('x');
  } catch {
    return undefined;
  }
  return typeof seen === 'function' ? seen : undefined;
})();

/** One callback for a write that carries two sends: end()'s chunk (Node gives it a no-op) and end's own. */
export function bothCallbacks(first: WriteCb | undefined, second: WriteCb | undefined): WriteCb | undefined {
  if (first === undefined || second === undefined) return second ?? first;
  return (err) => {
    first(err);
    second(err);
  };
}

/** The longest latin1 string send taken for framing (a chunk-size line, the last chunk) and made bytes. */
const FRAMING = 32;

/**
 * The sends Node makes as strings beside bytes, made as bytes: a large first byte chunk gets the
 * head queued ahead of it as latin1 bytes (Node queues the string); end()'s empty send after the
 * head went is an empty buffer; a chunked body's size lines and last chunk (short latin1 strings,
 * the first one joined to the head) are bytes. Then a writev of a byte body holds bytes only, and
 * Node's native side takes each chunk as it is, where a string among them makes it read every
 * chunk and encoding back from the array twice and parse the encodings (~6,000 instructions a
 * proxied 64 KiB response, callgrind). The bytes on the wire are the same. Undefined for any
 * other send: Node's send applies.
 */
export function sendAsBytes(
  res: ServerResponse,
  data: string | Uint8Array,
  encoding: BufferEncoding | undefined,
  callback: WriteCb | undefined,
): boolean | undefined {
  const node = res as unknown as NodeOutgoing;
  if (typeof data === 'string') return sendFramingAsBytes(node, data, encoding, callback);
  if (node._headerSent || typeof node._header !== 'string') return undefined;
  // What Node's send does for a byte chunk, the head as bytes.
  const head = Buffer.from(node._header, 'latin1');
  node.outputData.unshift({ data: head, encoding: undefined, callback: null });
  node.outputSize += head.length;
  node._onPendingData(head.length);
  node._headerSent = true;
  return node._writeRaw(data, encoding, callback);
}

/**
 * A short latin1 string send as bytes: after the head, or joined to it when it is a chunk-size
 * line (a byte chunk follows). Not an empty one (a head alone is one write anyway), nor a short
 * body with a length (static_response's hello): Node writes head and body as one string, which
 * costs less than copying both into a buffer (callgrind, Node 26).
 */
function sendFramingAsBytes(node: NodeOutgoing, data: string, encoding: BufferEncoding | undefined, callback: WriteCb | undefined) {
  if (data.length > FRAMING || (encoding !== 'latin1' && data !== '')) return undefined;
  if (node._headerSent) return node._writeRaw(data === '' ? NOTHING : Buffer.from(data, 'latin1'), undefined, callback);
  const head = node._header;
  if (data === '' || typeof head !== 'string' || !node.chunkedEncoding) return undefined;
  return node._writeRaw(headWith(node, head, data), undefined, callback);
}
