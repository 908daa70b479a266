import type { Stats } from 'node:fs';
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DONE, type FerryRequest, type ResponseWriter } from '@ferry/core';

/**
 * `browse`: a directory listing when a folder has no index file — HTML, or JSON for a client whose
 * Accept names `application/json`, in Caddy's JSON shape (`name`, `size`, `url`, `mod_time`,
 * `mode`, `is_dir`, `is_symlink`). Hidden files are left out; names are escaped in the HTML and
 * percent-encoded in URLs.
 */

export type SortBy = 'name' | 'namedirfirst' | 'size' | 'time';

export interface BrowseOptions {
  readonly sortBy: SortBy;
  readonly descending: boolean;
  /** At most this many entries are read and listed. */
  readonly fileLimit: number;
}

export interface Entry {
  readonly name: string;
  readonly size: number;
  readonly url: string;
  readonly mod_time: string;
  readonly mode: number;
  readonly is_dir: boolean;
  readonly is_symlink: boolean;
}

/** The folder to list: its path (what `hide` judges) and where to read it (the descriptor that was checked, when there is one). */
export interface Folder {
  readonly path: string;
  readonly readFrom: string;
}

/** Whether a listing may show what a symlink in it leads to (its real path): file_server's root and hide checks. */
export type LinkCheck = (link: string, real: string) => Promise<boolean>;

/** Entries looked at together: enough to keep the thread pool busy, few enough not to hold it from other requests long. */
const AT_ONCE = 64;

/**
 * Reads a folder's entries, those `visible` says to show, sorted. Names are read as they are
 * listed and no further than `fileLimit` visible ones: a folder of a million files costs a listing
 * what ten thousand do (a whole `readdir` held every name in memory for each request). Then the
 * entries are looked at AT_ONCE at a time: 10,000 of them one after the other took 432 ms a
 * listing through the CLI, 164 ms so (names read 256 at a time, Node's default 32).
 */
export async function listDirectory(
  folder: Folder,
  options: BrowseOptions,
  visible: (path: string) => boolean,
  followed: LinkCheck,
): Promise<Entry[]> {
  const names: string[] = [];
  // Closed when the loop ends, by a break or a throw too (the iterator's return()).
  for await (const { name } of await opendir(folder.readFrom, { bufferSize: 256 })) {
    if (names.length >= options.fileLimit) break;
    if (visible(join(folder.path, name))) names.push(name);
  }
  const entries: Entry[] = [];
  for (let i = 0; i < names.length; i += AT_ONCE) {
    const batch = await Promise.all(names.slice(i, i + AT_ONCE).map((name) => entryOf(folder, name, followed)));
    for (const entry of batch) if (entry !== undefined) entries.push(entry);
  }
  return sortEntries(entries, options);
}

/**
 * The entry `name` of `folder`, looked at without following it (lstat), so it is a link only when
 * it is one now; a link is listed as what it leads to when `followed` allows it, else — dangling,
 * out of the root, or hidden — as itself, with no size and nothing of its target. Undefined when
 * it is gone since the folder was read.
 */
async function entryOf(folder: Folder, name: string, followed: LinkCheck): Promise<Entry | undefined> {
  const at = join(folder.readFrom, name);
  const own = await lstat(at).catch(() => undefined);
  if (own === undefined) return undefined;
  const link = own.isSymbolicLink();
  const info = link ? await linkTarget(at, join(folder.path, name), followed) : own;
  const isDir = info?.isDirectory() ?? false;
  return {
    name,
    size: info && !isDir ? info.size : 0,
    url: `./${encodeURIComponent(name)}${isDir ? '/' : ''}`,
    mod_time: new Date(info?.mtimeMs ?? 0).toISOString(),
    mode: info?.mode ?? 0,
    is_dir: isDir,
    is_symlink: link,
  };
}

/** What the link at `at` (listed as `path`) leads to, when that may be shown: its real path checked, then that path's stats. */
async function linkTarget(at: string, path: string, followed: LinkCheck): Promise<Stats | undefined> {
  const real = await realpath(at).catch(() => undefined);
  if (real === undefined || !(await followed(path, real))) return undefined;
  return stat(real).catch(() => undefined);
}

function sortEntries(entries: Entry[], { sortBy, descending }: BrowseOptions): Entry[] {
  const byName = (a: Entry, b: Entry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const compare: Record<SortBy, (a: Entry, b: Entry) => number> = {
    name: byName,
    namedirfirst: (a, b) => Number(b.is_dir) - Number(a.is_dir) || byName(a, b),
    size: (a, b) => a.size - b.size || byName(a, b),
    time: (a, b) => a.mod_time.localeCompare(b.mod_time) || byName(a, b),
  };
  entries.sort(compare[sortBy]);
  return descending ? entries.reverse() : entries;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function sizeText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

function listingHtml(title: string, entries: readonly Entry[]): string {
  const rows = entries
    .map((e) => {
      const name = escapeHtml(e.name) + (e.is_dir ? '/' : '');
      const size = e.is_dir ? '—' : sizeText(e.size);
      return `<tr><td><a href="${escapeHtml(e.url)}">${name}</a></td><td>${size}</td><td><time datetime="${e.mod_time}">${e.mod_time.replace('T', ' ').slice(0, 19)}</time></td></tr>`;
    })
    .join('\n');
  const t = escapeHtml(title);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${t}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}td,th{padding:.25rem 1rem;text-align:left}</style>
</head><body><h1>${t}</h1>
<table><thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead><tbody>
<tr><td><a href="../">../</a></td><td></td><td></td></tr>
${rows}
</tbody></table></body></html>
`;
}

/** Whether the client asked for JSON (Caddy: an Accept that mentions application/json). */
function wantsJson(req: FerryRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes('application/json');
}

/** Writes the listing of `entries` for the directory at request path `path`. */
export function sendListing(req: FerryRequest, res: ResponseWriter, path: string, entries: readonly Entry[]): Promise<void> {
  const json = wantsJson(req);
  const body = Buffer.from(json ? JSON.stringify(entries) : listingHtml(path, entries));
  res.statusCode = 200;
  res.setHeader('content-type', json ? 'application/json' : 'text/html; charset=utf-8');
  res.setHeader('content-length', body.length);
  // The listing depends on Accept: a cache must not give the HTML to a JSON client.
  res.appendHeader('vary', 'Accept');
  res.end(req.method === 'HEAD' ? undefined : body);
  return DONE;
}
