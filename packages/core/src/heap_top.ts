/**
 * glibc's heap top kept for the next reads. Node's reads are malloc'd blocks: a socket read is one
 * of up to 64 KiB, and so is each request-body read its HTTP/1.1 parser copies out. Forwarded and
 * freed in a stream — by `transfer(0)` at once (release_reads.ts), or by the collector in batches —
 * they leave the top of glibc's heap free, and past its trim threshold (128 KiB by default) glibc
 * gives that memory back to the kernel, only to fault it in again for the next reads. That was
 * 2–5 minor faults a proxied 64 KiB POST on Node 26 with the reads freed one by one, and on
 * Node 20, where the collector frees them, half the throughput of a WebSocket relaying 16 KiB
 * messages: 91 of its 108 µs a message in the kernel (apps/bench ws 32x16KiB).
 *
 * glibc raises its mmap threshold to the size of an mmapped block that is freed, and its trim
 * threshold to twice that (mallopt(3), M_MMAP_THRESHOLD), unless they were set
 * (MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES). One 16 MiB block, mmapped and freed untouched, keeps up
 * to 32 MiB of freed heap for the next reads, and blocks under 16 MiB come from the heap. 4 MiB
 * (8 MiB kept) was enough for reads freed one by one, not for the collector's batches: relaying,
 * Node 20's heap grew to 36 MiB between collections and gave back 18 MiB each time, 580 MiB over
 * 20,000 messages; with 16 MiB, 34 MiB (2 MiB with 32 MiB, glibc's ceiling). Node 22+ frees the
 * block at once (`transfer(0)`); Node 20 at its next collection. Other C libraries (musl) ignore
 * it. Once a process.
 */
export function keepHeapTop(): void {
  if (kept) return;
  kept = true;
  const block = Buffer.allocUnsafeSlow(BLOCK).buffer as ArrayBuffer & {
    transfer?: (length: number) => ArrayBuffer;
  };
  block.transfer?.(0);
}

const BLOCK = 16 * 1024 * 1024;

let kept = false;
