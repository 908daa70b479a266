import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { keepHeapTop } from './heap_top.js';

/**
 * Reads freed as soon as Ferry is done with them: forwarded (the proxy, once the next socket took
 * them) or gathered into one body (`req.json()` and the other readers). Node's HTTP/1.1 parser
 * copies every request-body read into a malloc'd ArrayBuffer of its own, and a socket's every read
 * is one too; V8 counts them as external memory. Left to the garbage collector, they pile up to
 * V8's external-memory limit, and on Node 24 and later that pressure starts a full mark-compact:
 * up to 2 every 1,000 proxied 64 KiB POSTs, up to 19 % of the proxy's CPU (apps/bench proxy
 * post-64k, perf, Node 26). Detaching the ArrayBuffer (`transfer(0)`, Node 22+) frees it at once,
 * and the next read lands in the memory just freed, still in cache.
 *
 * Only a read nobody else can hold is freed: it comes from Node itself (a request's parser or a
 * socket, not a stream a handler made), Ferry's listener is its only reader, and it spans its whole
 * ArrayBuffer (not a slice of memory a handler may still hold).
 */

/** ES2024's `ArrayBuffer.prototype.transfer`, not in the ES2023 lib the packages build against. */
type Detachable = ArrayBuffer & { transfer(length: number): ArrayBuffer };

const detachable = typeof (ArrayBuffer.prototype as Partial<Detachable>).transfer === 'function';

/**
 * Starts taking the reads of `source`; says whether each may be freed once used: Node 22+,
 * and Node's own HTTP/1.1 request or socket. Reads of Node's own are malloc'd blocks, freed in a
 * stream whether Ferry frees them or the collector does, so glibc is first told to keep its heap
 * top for them (heap_top.ts), on every Node line.
 */
export function startReleasing(source: Readable): boolean {
  if (!(source instanceof IncomingMessage || source instanceof Socket)) return false;
  keepHeapTop();
  return detachable;
}

/**
 * Reads smaller than this are left to the collector. Freeing one costs about 0.5 µs (a write
 * callback, a new empty ArrayBuffer): relaying 32-byte messages in one process, 46.8 → 47.7 µs a
 * round trip of two relayed reads, in 6 of 6 pairs (Node 26). What it saves grows with the bytes:
 * about 0.5 µs a KiB relaying 16 KiB messages (apps/bench ws, relay's user time a message 29–37 →
 * 16 µs).
 */
export const MIN_RELEASED = 4096;

/**
 * Whether `chunk`, a read of a source `startReleasing` said may be freed, may be freed once used:
 * it is not small, Ferry's listener is the source's only one, and it is its whole ArrayBuffer.
 */
export function soleRead(source: Readable, chunk: Buffer): boolean {
  return chunk.byteLength >= MIN_RELEASED && source.listenerCount('data') === 1 && isWhole(chunk);
}

/** Whether `buf` is its whole ArrayBuffer: no other view can be of a part of it. */
export function isWhole(buf: Buffer): boolean {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
}

/** Frees the memory of `buf`, a whole ArrayBuffer nothing else holds, at once (Node 22+; before, the collector does). */
export function release(buf: Buffer): void {
  if (detachable) (buf.buffer as Detachable).transfer(0);
}

/**
 * The callback that frees `buf` once a lendable writer is done with it (ResponseWriter.lendable:
 * its callback comes once the bytes are written or copied), for memory of Ferry's own that nothing
 * else references: file_server's whole-file reads. Undefined when it is not freed: under
 * MIN_RELEASED, a slice (of Node's pool), or before Node 22. Freed like a read, it is the next
 * allocation's, so glibc is told to keep its heap top (every Node line). 100 KiB files, Node 26,
 * one core: 2.2–2.6 mark-compacts every 1,000 responses → 0, 278–279 → 151 µs of CPU a response.
 */
export function releaseWhenWritten(buf: Buffer): (() => void) | undefined {
  if (buf.byteLength < MIN_RELEASED || !isWhole(buf)) return undefined;
  keepHeapTop();
  return detachable ? () => release(buf) : undefined;
}

/** The write callback that frees `chunk` (see `soleRead`), or undefined when it may not be freed. */
export function releaseAfterWrite(source: Readable, chunk: Buffer): (() => void) | undefined {
  if (!soleRead(source, chunk)) return undefined;
  return () => release(chunk);
}
