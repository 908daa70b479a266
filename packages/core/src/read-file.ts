import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** A file that cannot be read, and why, in words for an error message ("is a directory"). */
export class FileReadError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`cannot read ${file}: ${reason}`);
    this.name = 'FileReadError';
  }
}

export interface ReadFileOptions {
  /** Larger files are refused with `tooLarge` as the reason. */
  maxBytes: number;
  tooLarge: string;
  /**
   * Refuse anything but a regular file. A FIFO is then opened without blocking and refused, so
   * a load never waits for a writer that may never come (#13: it held the admin change queue).
   */
  regularOnly: boolean;
}

function why(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent of it is not a directory';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return e.message;
  }
}

function kind(st: Stats): string | undefined {
  if (st.isDirectory()) return 'is a directory';
  if (st.isFile()) return undefined;
  if (st.isFIFO()) return 'is a named pipe (FIFO), not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  return 'is a device, not a regular file';
}

async function readBounded(handle: FileHandle, file: string, options: ReadFileOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, size);
    size += bytesRead;
    // Checked as it reads: a device (/dev/zero) or a growing file has no size to trust up front.
    if (size > options.maxBytes) throw new FileReadError(file, options.tooLarge);
    chunks.push(chunk.subarray(0, bytesRead));
  }
}

/** Reads a whole file, refusing directories (and, if asked, anything not a regular file) and files past a size. */
export async function readFileBounded(file: string, options: ReadFileOptions): Promise<Buffer> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK has no effect on regular files; it is absent on Windows, where FIFOs are not files.
    handle = await open(file, options.regularOnly ? constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) : constants.O_RDONLY);
  } catch (err) {
    throw new FileReadError(file, why(err));
  }
  try {
    const st = await handle.stat();
    const notFile = kind(st);
    if (notFile && (options.regularOnly || st.isDirectory())) throw new FileReadError(file, notFile);
    if (st.isFile() && st.size > options.maxBytes) throw new FileReadError(file, options.tooLarge);
    return await readBounded(handle, file, options);
  } catch (err) {
    throw err instanceof FileReadError ? err : new FileReadError(file, why(err));
  } finally {
    await handle.close();
  }
}
