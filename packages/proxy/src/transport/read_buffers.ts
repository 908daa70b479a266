/**
 * The memory upstream connections read into, reused (Caddy copies through a pool of buffers the
 * same way). Node's own socket reads allocate a new ArrayBuffer per read; V8 counts
 * those as external memory, and on Node 24 and later that pressure alone starts full
 * mark-compacts — about one every 100 proxied 64 KiB responses (apps/bench, scenario proxy).
 * Reading through `net`'s `onread` into these buffers allocates nothing per read.
 *
 * A buffer's bytes are lent to whoever handles a read: valid until the read's callback returns,
 * unless `hold()` kept them — then until each hold's release. Only when the read is over and no
 * hold is left does the buffer go back to the pool, for the next read of any connection.
 */

/**
 * The size of a read, Node's own: with 32 KiB, a wrapper in front of the proxy (which gets a copy
 * of each read) paid for twice the reads and copies — encode + reverse_proxy was 7% slower.
 */
export const READ_SIZE = 64 * 1024;
/**
 * How much a connection's reads may wait in the other side's write queue before that connection
 * is paused: two reads (a head besides). Node's write() answers false for any chunk past its
 * high-water mark (16 KiB on Node 20, 64 KiB later) and a corked socket (Node's response corks
 * until the next tick) holds even what the kernel would take at once: pausing on every such
 * false costs a stop and a start of the reads (two epoll_ctl calls) and a round of stream events
 * per large read. Pausing only past this bound keeps at most three reads in memory per connection.
 */
export const MAX_QUEUED = 2 * READ_SIZE;

/** Buffers kept free for the next reads (2 MiB); more are left to the garbage collector. */
const MAX_FREE = 32;

const free: ReadBuffer[] = [];
/** Buffers taken and not yet free (read into, or held). */
let inUse = 0;

/**
 * Idle connections that may keep a buffer of their own (4 MiB in all). Node takes a connection's
 * next buffer right after a read, so a buffer taken when a connection goes idle stays with it
 * until it reads again: without a bound, 1,000 idle connections would keep 64 MiB.
 */
export const MAX_IDLE_HELD = 64;
let idleHeld = 0;

/**
 * What idle connections beyond MAX_IDLE_HELD read into: one buffer for all of them. A read that
 * lands here (a response's first, or an idle connection's unasked bytes) is handled before any
 * other read can land (reads and their callbacks run one at a time): copied into a pooled buffer
 * (`copyOfIdle`) before its bytes go anywhere. Not all idle connections read here: with every
 * connection's buffer given back, a POST-heavy load (apps/bench proxy post-64k) ran 13 % slower —
 * glibc then trims the heap that Node's per-read request-body allocations regrow (page faults;
 * MALLOC_TRIM_THRESHOLD_ raised made both the same).
 */
export const idleReads = Buffer.allocUnsafeSlow(READ_SIZE);

export class ReadBuffer {
  readonly bytes = Buffer.allocUnsafeSlow(READ_SIZE);
  /** A socket reads into it, or the bytes it read are being handled now. */
  #reading = false;
  #holds = 0;
  /** Taken by a connection going idle: counts against MAX_IDLE_HELD until its read is done. */
  #idle = false;

  /** A buffer for the next read of a connection, free of holds. */
  static take(): ReadBuffer {
    const buf = free.pop() ?? new ReadBuffer();
    inUse++;
    buf.#reading = true;
    return buf;
  }

  /** A buffer for a connection going idle, while fewer than MAX_IDLE_HELD keep one; else undefined (it reads into `idleReads`). */
  static takeForIdle(): ReadBuffer | undefined {
    if (idleHeld >= MAX_IDLE_HELD) return undefined;
    idleHeld++;
    const buf = ReadBuffer.take();
    buf.#idle = true;
    return buf;
  }

  /** A buffer for a read that landed in `idleReads`: its `n` bytes, copied, read as if into it. */
  static copyOfIdle(n: number): ReadBuffer {
    const buf = ReadBuffer.take();
    idleReads.copy(buf.bytes, 0, 0, n);
    return buf;
  }

  /** The read into it is over (handled, or its connection closed): free unless held. */
  readDone(): void {
    if (!this.#reading) return;
    this.#reading = false;
    if (this.#idle) {
      this.#idle = false;
      idleHeld--;
    }
    if (this.#holds === 0) this.#free();
  }

  /**
   * Keeps the bytes of the current read valid past its callback; returns their release (to call
   * once the memory is no longer referenced anywhere, e.g. from a socket write's callback). A
   * release never called only means this buffer goes to the garbage collector, not to the pool.
   */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds === 0 && !this.#reading) this.#free();
    };
  }

  /** How many buffers a connection reads into or someone holds now: 0 once every connection is idle and every hold released. */
  static get inUse(): number {
    return inUse;
  }

  #free(): void {
    inUse--;
    if (free.length < MAX_FREE) free.push(this);
  }
}
