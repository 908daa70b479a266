import { constants, open, read } from 'node:fs';

/**
 * Reads of a file at a position, and the buffers large files stream through (stream_file.ts),
 * reused from one response to the next. A buffer goes back only once the write that referenced it
 * called back: a response the client left may still reference one, and that one is left to the
 * garbage collector instead.
 */

/** The size of each buffer: a whole small file, or one chunk of a large one (a quarter of the reads of Node's 64 KiB). */
export const CHUNK = 256 * 1024;
/** Idle buffers kept for the next responses (at most 8 MiB). */
const POOL_LIMIT = 32;
const idle: Buffer[] = [];

export const take = (): Buffer => idle.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
export const giveBack = (buf: Buffer): void => void (idle.length < POOL_LIMIT && idle.push(buf));

/**
 * How files are opened: never blocking in open(). A FIFO swapped in since the stat would otherwise
 * hold a thread-pool thread until a writer came — four such requests and every file read, DNS
 * lookup and async zlib call of the process waits. Reads of a regular file are the same with it.
 */
export const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export function openFile(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, OPEN_FLAGS, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Reads up to `length` bytes at `position` into the start of `buf`; resolves with how many came (fewer only at the end of the file). */
export function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n))));
}
