/**
 * The memory a declared body is gathered in while encode waits for its end (EncodeWriter's
 * assembly), reused from response to response. A fresh buffer per response is external memory to
 * V8, and on Node 24 that alone starts full collections: encode + reverse_proxy, a 102,602-byte
 * body, one core — 66 mark-compacts in 8 s and 1,254 req/s with a new buffer each time, 1 and
 * 1,614 req/s with these.
 *
 * Buffers come in powers of two from 8 KiB to 1 MiB (encode holds no larger body whole); a
 * smaller body takes a slice of Node's shared pool, as `Buffer.allocUnsafe` gives it. A lease is
 * released once nothing references its bytes any more — the compressor has consumed them, or the
 * writer's callback said it is done with them; a lease never released is left to the garbage
 * collector, never reused.
 */

const MIN_SHIFT = 13;
const MAX_SHIFT = 20;
/** Bytes kept free across all sizes (4 MiB); more go to the garbage collector. */
const MAX_FREE_BYTES = 4 * 1024 * 1024;

/** Free buffers by size: index i holds buffers of 2^(MIN_SHIFT + i) bytes. */
const free: Buffer[][] = Array.from({ length: MAX_SHIFT - MIN_SHIFT + 1 }, () => []);
let freeBytes = 0;

/** A buffer of at least `length` bytes, held by one body until `release()`. */
export interface AssemblyLease {
  /** Its first `length` bytes are the caller's; the rest may be anything. */
  readonly bytes: Buffer;
  /** Back to the pool: only once no write, compressor or view still reads the bytes. Once only counts. */
  release(): void;
}

const unpooled = (bytes: Buffer): AssemblyLease => ({ bytes, release() {} });

export function leaseAssembly(length: number): AssemblyLease {
  if (length < 1 << MIN_SHIFT || length > 1 << MAX_SHIFT) return unpooled(Buffer.allocUnsafe(length));
  const shift = Math.max(MIN_SHIFT, Math.ceil(Math.log2(length)));
  const list = free[shift - MIN_SHIFT]!;
  const bytes = list.pop();
  if (bytes !== undefined) freeBytes -= bytes.length;
  return new PooledLease(bytes ?? Buffer.allocUnsafeSlow(1 << shift), list);
}

class PooledLease implements AssemblyLease {
  #released = false;

  constructor(
    readonly bytes: Buffer,
    private readonly list: Buffer[],
  ) {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    if (freeBytes + this.bytes.length > MAX_FREE_BYTES) return;
    freeBytes += this.bytes.length;
    this.list.push(this.bytes);
  }
}
