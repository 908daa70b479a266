import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { HttpError } from '@ferry/core';
import { isInside } from './paths.js';

/** Errors that mean "no such file here": answered 404, as Caddy maps them to fs.ErrNotExist. */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EINVAL']);

/**
 * `stat` for the file server: undefined when there is no such file; a 403 HttpError when it may
 * not be read; 503 when the process is out of file descriptors (a retry may work); 500 otherwise.
 */
export async function statFile(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    const e = statError(err);
    if (e === undefined) return undefined;
    throw e;
  }
}

/** `path` with every symlink followed; undefined when it cannot be resolved. */
export function realPathOf(path: string): Promise<string | undefined> {
  return realpath(path).catch(() => undefined);
}

/** The file's stats, or undefined on any error: for files that are only tried (index names, sidecars). */
export async function tryStat(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

function statError(err: unknown): HttpError | undefined {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (MISSING.has(code)) return undefined;
  if (code === 'EACCES' || code === 'EPERM') return new HttpError(403, undefined, { cause: err });
  if (code === 'EMFILE' || code === 'ENFILE') return new HttpError(503, undefined, { cause: err });
  return new HttpError(500, undefined, { cause: err });
}

/** Past this many roots (placeholders in `root`), the cache of resolved roots starts over. */
const MAX_ROOTS = 256;

/**
 * Whether files resolve inside their root once every symlink is followed: a link that leaves the
 * root is refused. Roots are resolved once each and remembered; a root that does not exist yet
 * is looked up again next time.
 */
export class RootCheck {
  readonly #realRoots = new Map<string, string>();

  async #realRoot(root: string): Promise<string | undefined> {
    const known = this.#realRoots.get(root);
    if (known !== undefined) return known;
    const real = await realpath(root).catch(() => undefined);
    if (real === undefined) return undefined;
    if (this.#realRoots.size >= MAX_ROOTS) this.#realRoots.clear();
    this.#realRoots.set(root, real);
    return real;
  }

  /** True when `real` (a path with its links resolved, of a file under `root`) is inside the resolved root. */
  async inside(root: string, real: string): Promise<boolean> {
    const realRoot = await this.#realRoot(root);
    return realRoot !== undefined && isInside(realRoot, real);
  }
}
