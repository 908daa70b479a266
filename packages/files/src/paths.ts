import { posix, resolve, sep } from 'node:path';

/**
 * From a request path to a file path that cannot leave the root (Caddy's SanitizedPathJoin).
 *
 * The request path is already percent-decoded once by core (`req.path`, byte-wise), so `%2e%2e`
 * is `..` and `%2f` is `/` here, and `%252e` stays the literal `%2e`. Cleaning it as an absolute
 * path (`/` + path, `.` and `..` resolved, `..` above `/` dropped) leaves nothing that climbs;
 * joined to the root it stays under the root. A NUL byte is refused: no file name holds one, and
 * Node's fs would throw on it. On Windows a backslash is a separator too (core already
 * percent-encodes raw ones in the target; `%5c` decodes to one), so it is cleaned as a slash.
 */

const WINDOWS = process.platform === 'win32';

/** The cleaned, root-relative form of a request path: starts with `/`, keeps a trailing `/`; undefined when it has a NUL. */
export function cleanRequestPath(path: string): string | undefined {
  if (path.includes('\0')) return undefined;
  const p = WINDOWS ? path.replaceAll('\\', '/') : path;
  return posix.normalize(`/${p}`);
}

/** `root` (absolute, no trailing separator) joined with a cleaned request path, without a trailing separator. */
export function joinRoot(root: string, clean: string): string {
  if (clean === '/' || clean === '') return root;
  const rel = clean.endsWith('/') ? clean.slice(0, -1) : clean;
  return WINDOWS ? root + rel.replaceAll('/', '\\') : root === '/' ? rel : root + rel;
}

/** Whether `file` is `root` or inside it (both absolute and normalized). */
export function isInside(root: string, file: string): boolean {
  if (file === root) return true;
  const base = root.endsWith(sep) ? root : root + sep;
  return file.startsWith(base);
}

/** The absolute form of a root as rendered from config: empty means the working directory, as in Caddy. */
export function absoluteRoot(rendered: string): string {
  const abs = resolve(rendered === '' ? '.' : rendered);
  return abs.length > 1 && abs.endsWith(sep) ? abs.slice(0, -1) : abs;
}
