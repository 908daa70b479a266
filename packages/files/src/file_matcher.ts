import { type Stats, statSync } from 'node:fs';
import { defineModule, HttpError, moduleFactory, z, type FerryRequest, type Matcher, type Template } from '@ferry/core';
import { absoluteRoot, cleanRequestPath, joinRoot } from './paths.js';

/**
 * `http.matchers.file`: matches when a file exists (Caddy's MatchFile). Each `try_files` entry,
 * placeholders rendered, is a path under `root` (cleaned as the file server cleans request paths,
 * so it cannot leave the root); one ending in `/` must be a folder, any other must not. On a
 * match it sets `{http.matchers.file.relative}`, `.absolute`, `.type` (`file` / `directory`) and
 * `.remainder` (what `split_path` cut off).
 *
 * Matchers answer synchronously in Ferry, so files are looked up with `statSync`: a local `stat`
 * takes microseconds, but a root on a slow network file system would stall the event loop.
 */

const POLICIES = ['first_exist', 'smallest_size', 'largest_size', 'most_recently_modified'] as const;
type Policy = (typeof POLICIES)[number];

const config = z.strictObject({
  root: z.string().optional().meta({
    description: 'The folder the tried paths are under; placeholders allowed. Unset: `{http.vars.root}`, else the working directory.',
    default: '{http.vars.root}',
  }),
  try_files: z
    .array(z.string())
    .optional()
    .meta({
      description:
        'Paths to try under root, placeholders allowed; a trailing `/` asks for a folder. With `first_exist`, an entry `=404` (any status) ends the search with that error.',
      default: ['{http.request.uri.path}'],
    }),
  try_policy: z.enum(POLICIES).optional().meta({
    description: 'Which existing file matches: the first, the smallest, the largest or the most recently modified.',
    default: 'first_exist',
  }),
  split_path: z
    .array(z.string())
    .optional()
    .describe(
      'Delimiters that split a path in two (`.php`: `/index.php/a/b` tries `/index.php`, remainder `/a/b`); one must end a path segment to split it.',
    ),
});

type FileMatcherConfig = z.output<typeof config>;

/** One `try_files` entry: a path template, or a status that ends the search. */
type Try = { readonly template: Template; readonly dir: boolean } | { readonly status: number };

interface Candidate {
  readonly absolute: string;
  readonly relative: string;
  readonly remainder: string;
  readonly info: Stats;
}

/** `=404`: a status between 100 and 999 (Caddy's parseErrorCode); anything else is a path. */
function statusOf(entry: string): number | undefined {
  if (!/^=\d+$/.test(entry)) return undefined;
  const n = Number(entry.slice(1));
  return n >= 100 && n <= 999 ? n : undefined;
}

/** Cuts the path after the first `split_path` delimiter that ends a segment (case-insensitive). */
function firstSplit(path: string, splits: readonly string[]): [string, string] {
  const lower = path.toLowerCase();
  for (const split of splits) {
    const idx = lower.indexOf(split.toLowerCase());
    if (idx === -1) continue;
    const pos = idx + split.length;
    if (pos !== path.length && path[pos] !== '/') continue;
    return [path.slice(0, pos), path.slice(pos)];
  }
  return [path, ''];
}

function lookup(root: string, rendered: string, dir: boolean, splits: readonly string[]): Candidate | undefined {
  const clean = cleanRequestPath(rendered);
  if (clean === undefined) return undefined;
  const [before, remainder] = splits.length === 0 ? [clean, ''] : firstSplit(clean, splits);
  const absolute = joinRoot(root, before);
  const info = statSync(absolute, { throwIfNoEntry: false });
  // Only regular files and folders (as nginx's try_files): file_server answers nothing else, so a
  // FIFO matched here would turn an SPA's fallback into a 404.
  if (info === undefined || info.isDirectory() !== dir || !(dir || info.isFile())) return undefined;
  const rel = (root === '/' ? absolute : absolute.slice(root.length)).replaceAll('\\', '/') || '/';
  // A folder keeps the trailing slash it was asked with, as Caddy's placeholders do.
  const slash = dir && rel !== '/' ? '/' : '';
  return { absolute: absolute.replaceAll('\\', '/') + slash, relative: rel + slash, remainder, info };
}

const BETTER: Record<Exclude<Policy, 'first_exist'>, (a: Stats, b: Stats) => boolean> = {
  smallest_size: (a, b) => a.size < b.size,
  largest_size: (a, b) => a.size > b.size,
  most_recently_modified: (a, b) => a.mtimeMs > b.mtimeMs,
};

function compile(cfg: FileMatcherConfig, ctx: { template(text: string, path?: string): Template; path: string }): Matcher {
  const rootT = ctx.template(cfg.root ?? '{http.vars.root}', `${ctx.path}.root`);
  const fixedRoot = rootT.isStatic ? absoluteRoot(rootT.render(undefined as never)) : undefined;
  const policy: Policy = cfg.try_policy ?? 'first_exist';
  const splits = cfg.split_path ?? [];
  const tries: Try[] = (cfg.try_files ?? ['{http.request.uri.path}']).map((entry, i) => {
    const status = policy === 'first_exist' ? statusOf(entry) : undefined;
    if (status !== undefined) return { status };
    return { template: ctx.template(entry, `${ctx.path}.try_files[${i}]`), dir: entry.endsWith('/') };
  });
  return (req) => {
    const root = fixedRoot ?? absoluteRoot(rootT.render(req));
    let best: Candidate | undefined;
    for (const t of tries) {
      if ('status' in t) throw new HttpError(t.status);
      const c = lookup(root, t.template.render(req), t.dir, splits);
      if (c === undefined) continue;
      if (policy === 'first_exist') {
        best = c;
        break;
      }
      if (best === undefined || BETTER[policy](c.info, best.info)) best = c;
    }
    if (best === undefined) return false;
    setPlaceholders(req, best);
    return true;
  };
}

function setPlaceholders(req: FerryRequest, c: Candidate): void {
  req.setPlaceholder('http.matchers.file.relative', c.relative);
  req.setPlaceholder('http.matchers.file.absolute', c.absolute);
  req.setPlaceholder('http.matchers.file.type', c.info.isDirectory() ? 'directory' : 'file');
  req.setPlaceholder('http.matchers.file.remainder', c.remainder);
}

/** `http.matchers.file`: matches requests by the files that exist under a root. */
export const fileMatcher = defineModule({
  id: 'http.matchers.file',
  description: 'Matches when a file exists: try_files under root, chosen by try_policy; sets {http.matchers.file.*}.',
  config,
  provision: (cfg, ctx): Matcher => compile(cfg, ctx),
});

/** `file({ root, tryFiles: ['{http.request.uri.path}', '/index.html'] })`: the file matcher in code. */
export const file = moduleFactory(fileMatcher);
