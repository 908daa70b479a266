import { close, open, readlinkSync } from 'node:fs';
import { OPEN_FLAGS, readAt } from './read_buffers.js';

/**
 * A file opened to check where it really is, then read by the response: what was checked is what
 * is read (no symlink can be swapped in between), and the check costs no trip of its own.
 *
 * Before, file_server asked `realpath` (one thread-pool trip: a `readlink` per path element) and
 * the response opened the file again. On Linux the kernel names each open descriptor's file in
 * `/proc/self/fd`, every symlink followed: a `readlink` there reads memory only, never the disk,
 * so it is made on the event loop. 1 KiB files, one core (wrk -c50): 115–121 → 106–112 µs of CPU
 * a response. Elsewhere, or where /proc is not mounted, `realPath` is undefined and the caller
 * asks `realpath` as before.
 */

/** Whether /proc/self/fd names descriptors here; false after the first failure. */
let procNames = process.platform === 'linux';

/** What the kernel appends to the name of a file unlinked while open. */
const DELETED = ' (deleted)';

/** Descriptors to close once this turn of the event loop is over. */
const closing: number[] = [];

function closeAll(): void {
  for (const fd of closing.splice(0)) close(fd, () => {});
}

/**
 * Closes `fd` soon, not waited for: the closes of one turn of the event loop go to the thread pool
 * together, after that turn's I/O (setImmediate), so the pool wakes for them as a batch rather
 * than once each. 1 KiB files, one core, wrk -c50, 3 pairs: 107 → 102–103 µs of CPU a response.
 * Nothing follows from a read-only descriptor's close that anyone waits for.
 */
export function closeSoon(fd: number): void {
  if (closing.push(fd) === 1) setImmediate(closeAll);
}

export class OpenFile {
  #fd: number | undefined;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** A descriptor opened elsewhere, handed to whoever takes it (take()) or closes it. */
  static adopt(fd: number): OpenFile {
    return new OpenFile(fd);
  }

  /** `path` opened for reading; undefined when it cannot be (the caller falls back to its path). */
  static open(path: string): Promise<OpenFile | undefined> {
    return new Promise((resolve) => open(path, OPEN_FLAGS, (err, fd) => resolve(err ? undefined : new OpenFile(fd))));
  }

  /** The file's absolute path with every symlink followed, from the kernel; undefined when this system does not say. */
  realPath(): string | undefined {
    if (!procNames || this.#fd === undefined) return undefined;
    let name: string;
    try {
      name = readlinkSync(`/proc/self/fd/${this.#fd}`);
    } catch {
      procNames = false;
      return undefined;
    }
    // Not a path (a pipe, a socket), or a file gone since: the caller asks realpath, which says.
    return name.startsWith('/') && !name.endsWith(DELETED) ? name : undefined;
  }

  /**
   * A path that reaches this very file or folder whatever is renamed or linked in its place since
   * it was opened (`/proc/self/fd/N`: a folder's listing reads its entries through it); undefined
   * where the system does not offer one.
   */
  pinnedPath(): string | undefined {
    return procNames && this.#fd !== undefined ? `/proc/self/fd/${this.#fd}` : undefined;
  }

  /**
   * The file's first bytes, at most `limit` + 1 (so a caller can tell a file longer than `limit`);
   * undefined when it cannot be read. One read: never more memory than asked for, whatever the size.
   */
  readStart(limit: number): Promise<Buffer | undefined> {
    const fd = this.#fd;
    if (fd === undefined) return Promise.resolve(undefined);
    const buf = Buffer.allocUnsafe(limit + 1);
    return readAt(fd, buf, buf.length, 0).then(
      (n) => buf.subarray(0, n),
      () => undefined,
    );
  }

  /** The descriptor, now the caller's to close; undefined when it was taken or closed already. */
  take(): number | undefined {
    const fd = this.#fd;
    this.#fd = undefined;
    return fd;
  }

  /** Closes the descriptor unless it was taken (closeSoon). */
  close(): void {
    const fd = this.take();
    if (fd !== undefined) closeSoon(fd);
  }
}
