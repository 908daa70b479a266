import { realpathSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  defineModule,
  HttpError,
  moduleFactory,
  type FerryRequest,
  type Handler,
  type Middleware,
  type ProvisionContext,
  type ResponseWriter,
  type Template,
} from '@ferry/core';
import { listDirectory, sendListing, type BrowseOptions, type SortBy } from './browse.js';
import { fileServerSchema, validateFileServer, type FileServerConfig } from './config.js';
import { ETAG_FILE_LIMIT, tagIn } from './etag_sidecar.js';
import { HideList } from './hide.js';
import { contentTypeOf } from './mime.js';
import { OpenFile } from './open_file.js';
import { absoluteRoot, cleanRequestPath, joinRoot } from './paths.js';
import { acceptedEncodings, SUFFIX, type Precompressed } from './precompressed.js';
import { sendFile, type ChosenFile } from './send.js';
import { RootCheck, realPathOf, statFile, tryStat } from './stat.js';

const DEFAULT_INDEX_NAMES = ['index.html', 'index.txt'];

/** A modification time worth sending: not the epoch (or 1 s past it) that build tools stamp (caddy#5548). */
function usefulSeconds(info: Stats): number | undefined {
  const s = Math.floor(info.mtimeMs / 1000);
  return s === 0 || s === 1 ? undefined : s;
}

/** Caddy's strong validator from modification time and size, without reading the file. */
function computedEtag(info: Stats): string | undefined {
  if (usefulSeconds(info) === undefined) return undefined;
  return `"${Math.floor(info.mtimeMs * 1000).toString(36)}-${info.size.toString(36)}"`;
}

function addVaryAcceptEncoding(res: ResponseWriter): void {
  const v = res.getHeader('vary');
  if (v !== undefined && /(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(Array.isArray(v) ? v.join(',') : String(v))) return;
  res.appendHeader('vary', 'Accept-Encoding');
}

/**
 * The config file the host read (Caddy hides its config file from every file_server): its path,
 * and its real path when a symlink leads there, so neither name serves it.
 */
function configFilePaths(file: string | undefined): string[] {
  if (file === undefined) return [];
  const paths = [resolve(file)];
  try {
    const real = realpathSync(file);
    if (real !== paths[0]) paths.push(real);
  } catch {
    // Gone since it was read: its path alone is hidden.
  }
  return paths;
}

/**
 * Only regular files and folders are served. Anything else under the root — a FIFO (whose reader
 * waits for a writer), a socket, a device reached through a link when links may leave the root —
 * is answered as missing, as nginx does.
 */
function servableKind(info: Stats): boolean {
  return info.isFile() || info.isDirectory();
}

/** A file to read: its path, its stats, and its descriptor when it was opened to check it. */
interface FileAt {
  path: string;
  info: Stats;
  opened: OpenFile | undefined;
}

/** What the file server found for a request path. */
interface Found {
  filename: string;
  info: Stats;
  implicitIndex: boolean;
  /** The file, opened when checking where it leads (#servable): the response reads it, else #serve closes it. */
  opened: OpenFile | undefined;
}

/** Not servable, or servable and perhaps opened to prove it. */
type Servable = false | { opened: OpenFile | undefined };

/** One request's lookup: its root, and every file opened for it — closed in one place, once it is answered (#serve). */
interface Lookup {
  root: string;
  opened: OpenFile[];
}

/**
 * The file server: from the request path to a file under the root (never outside it), then the
 * response. One instance per configured handler; nothing is allocated per request beyond what
 * the answer needs.
 */
export class FileServer {
  readonly #root: Template | undefined;
  readonly #fixedRoot: string | undefined;
  readonly #index: readonly string[];
  readonly #hide: HideList;
  readonly #browse: BrowseOptions | undefined;
  readonly #canonical: boolean;
  readonly #status: Template | number | undefined;
  readonly #passThru: boolean;
  readonly #precompressed: readonly Precompressed[];
  /** Whether precompressed_order was given: else the client's order breaks ties, as in Caddy. */
  readonly #precompressedOrdered: boolean;
  readonly #etagExtensions: readonly string[];
  readonly #checkRoot: RootCheck | undefined;
  readonly #fallback: string | undefined;

  /** `fallback`: a root-relative file served for paths that find nothing (spa()). */
  constructor(cfg: FileServerConfig, ctx: ProvisionContext, fallback?: string) {
    const at = (s: string) => `${ctx.path}.${s}`;
    const root = ctx.template(cfg.root ?? '{http.vars.root}', at('root'));
    this.#fixedRoot = root.isStatic ? absoluteRoot(root.render(undefined as never)) : undefined;
    this.#root = root.isStatic ? undefined : root;
    this.#index = cfg.index_names ?? DEFAULT_INDEX_NAMES;
    this.#hide = new HideList(
      (cfg.hide ?? []).map((h, i) => ctx.template(h, at(`hide[${i}]`))),
      configFilePaths(ctx.service('config.file')),
    );
    const [sortBy, order] = cfg.browse?.sort ?? [];
    this.#browse = cfg.browse && {
      sortBy: (sortBy ?? 'name') as SortBy,
      descending: order === 'desc',
      fileLimit: cfg.browse.file_limit ?? 10000,
    };
    this.#canonical = cfg.canonical_uris ?? true;
    this.#status = typeof cfg.status_code === 'string' ? ctx.template(cfg.status_code, at('status_code')) : cfg.status_code;
    this.#passThru = cfg.pass_thru ?? false;
    this.#precompressed = cfg.precompressed_order ?? (Object.keys(cfg.precompressed ?? {}) as Precompressed[]);
    this.#precompressedOrdered = cfg.precompressed_order !== undefined;
    this.#etagExtensions = cfg.etag_file_extensions ?? [];
    this.#checkRoot = cfg.follow_symlinks_outside_root ? undefined : new RootCheck();
    this.#fallback = fallback;
  }

  /** A root fixed in config that is not a folder: a warning (Caddy serves 404s), not a refusal. */
  async checkRoot(ctx: ProvisionContext): Promise<void> {
    const root = this.#fixedRoot;
    if (root === undefined) return;
    const info = await stat(root).catch(() => undefined);
    if (!info?.isDirectory())
      ctx.warn(`root "${root}" ${info ? 'is not a folder' : 'does not exist'}: every request gets 404 until it does`, `${ctx.path}.root`);
  }

  readonly middleware: Middleware = (req, res, next) => this.#serve(req, res, next);

  #rootOf(req: FerryRequest): string {
    return this.#fixedRoot ?? absoluteRoot(this.#root!.render(req));
  }

  async #find(req: FerryRequest, lookup: Lookup, clean: string): Promise<Found | undefined> {
    let filename = joinRoot(lookup.root, clean);
    let info = await statFile(filename);
    if (info === undefined || !servableKind(info) || this.#hide.hidden(filename, req)) return undefined;
    let implicitIndex = false;
    if (info.isDirectory()) {
      for (const name of this.#index) {
        const candidate = joinRoot(filename, `/${name}`);
        if (this.#hide.hidden(candidate, req)) continue;
        const found = await tryStat(candidate);
        if (found === undefined || !servableKind(found)) continue;
        filename = candidate;
        info = found;
        implicitIndex = true;
        break;
      }
    }
    const servable = await this.#servable(req, lookup, filename);
    if (servable === false) return undefined;
    return { filename, info, implicitIndex, opened: servable.opened };
  }

  /**
   * Whether `path` (a regular file or folder under `root`, not hidden by its own name) may be
   * served once its links are followed (#leadsAllowed). It is opened to learn where it leads
   * (open_file.ts), and that descriptor is what the response reads (a folder's listing too);
   * anything that will not open asks `realpath`.
   */
  async #servable(req: FerryRequest, lookup: Lookup, path: string): Promise<Servable> {
    if (this.#checkRoot === undefined && this.#hide.empty) return { opened: undefined };
    const opened = await this.#open(lookup, path);
    const real = opened?.realPath() ?? (await realPathOf(path));
    return real !== undefined && (await this.#leadsAllowed(req, lookup, path, real)) ? { opened } : false;
  }

  /** `path` opened for this request: closed with the rest once it is answered (#serve), unless a reader takes it. */
  async #open(lookup: Lookup, path: string): Promise<OpenFile | undefined> {
    const opened = await OpenFile.open(path);
    if (opened) lookup.opened.push(opened);
    return opened;
  }

  /**
   * Whether `path`, which leads to `real` once its links are followed, may be served or shown:
   * `real` is inside the root (unless `follow_symlinks_outside_root`), and not hidden either — a
   * link inside the root to the config file serves nothing. A listing asks it of each link.
   */
  async #leadsAllowed(req: FerryRequest, lookup: Lookup, path: string, real: string): Promise<boolean> {
    if (this.#checkRoot !== undefined && !(await this.#checkRoot.inside(lookup.root, real))) return false;
    return real === path || !this.#hide.hidden(real, req);
  }

  async #serve(req: FerryRequest, res: ResponseWriter, next: Handler): Promise<void> {
    const clean = cleanRequestPath(req.path);
    if (clean === undefined) throw new HttpError(400, 'the request path holds a NUL byte');
    const lookup: Lookup = { root: this.#rootOf(req), opened: [] };
    try {
      const found = await this.#find(req, lookup, clean);
      if (found === undefined) return await this.#notFound(req, res, next, lookup);
      return await this.#answer(req, res, next, lookup, found);
    } finally {
      // What a reader took is its own to close (OpenFile.take); the rest is closed here.
      for (const file of lookup.opened) file.close();
    }
  }

  async #answer(req: FerryRequest, res: ResponseWriter, next: Handler, lookup: Lookup, found: Found): Promise<void> {
    const folder = found.info.isDirectory();
    if (folder && !this.#browse) return this.#notFound(req, res, next, lookup);
    if (this.#canonical) {
      const to = canonicalLocation(req, folder || found.implicitIndex);
      if (to !== undefined) return redirect(res, to);
    }
    if (!folder) return this.#send(req, res, lookup, found);
    const entries = await listDirectory(
      { path: found.filename, readFrom: found.opened?.pinnedPath() ?? found.filename },
      this.#browse!,
      (p) => !this.#hide.hidden(p, req),
      (link, real) => this.#leadsAllowed(req, lookup, link, real),
    );
    return sendListing(req, res, req.path, entries);
  }

  async #send(req: FerryRequest, res: ResponseWriter, lookup: Lookup, found: Found): Promise<void> {
    // Only GET and HEAD read a file (Caddy, issue 5166); an error route serves its page whatever the method.
    if (req.method !== 'GET' && req.method !== 'HEAD' && !req.error) {
      res.setHeader('allow', 'GET, HEAD');
      throw new HttpError(405);
    }
    // Vary even when nothing was compressed: caches key on it whenever an answer could be (caddy#5849).
    addVaryAcceptEncoding(res);
    const chosen =
      (await this.#sidecar(req, lookup, found)) ??
      (await this.#chosen(req, lookup, { path: found.filename, info: found.info, opened: found.opened }, found.info));
    return sendFile(req, res, chosen, this.#statusOf(req));
  }

  /** The precompressed sidecar the client takes best, if one exists. */
  async #sidecar(req: FerryRequest, lookup: Lookup, found: Found): Promise<ChosenFile | undefined> {
    if (this.#precompressed.length === 0) return undefined;
    const field = req.headers['accept-encoding'];
    for (const enc of acceptedEncodings(typeof field === 'string' ? field : undefined, this.#precompressed, this.#precompressedOrdered)) {
      const path = found.filename + SUFFIX[enc];
      const info = await tryStat(path);
      if (!info?.isFile()) continue;
      const servable = await this.#servable(req, lookup, path);
      if (servable === false) continue;
      return this.#chosen(req, lookup, { path, info, opened: servable.opened }, found.info, enc);
    }
    return undefined;
  }

  /** The file to read, typed and dated as the original (`original`: itself, or the file a sidecar compresses). */
  async #chosen(req: FerryRequest, lookup: Lookup, file: FileAt, original: Stats, encoding?: Precompressed): Promise<ChosenFile> {
    const { path, info } = file;
    return {
      path,
      opened: file.opened,
      info,
      contentType: contentTypeOf(path.slice(0, path.length - (encoding ? SUFFIX[encoding].length : 0))),
      etag: (await this.#etagFromFile(req, lookup, path)) ?? computedEtag(info),
      mtimeSeconds: usefulSeconds(original),
      encoding,
    };
  }

  /**
   * The tag in the first `etag_file_extensions` sidecar that holds one (etag_sidecar.ts). A sidecar
   * is checked as a served file is — a link out of the root or to a hidden file is not read — and
   * read from the descriptor that was checked.
   */
  async #etagFromFile(req: FerryRequest, lookup: Lookup, path: string): Promise<string | undefined> {
    for (const ext of this.#etagExtensions) {
      const sidecar = path + ext;
      const info = await tryStat(sidecar);
      if (!info?.isFile() || info.size > ETAG_FILE_LIMIT) continue;
      const servable = await this.#servable(req, lookup, sidecar);
      if (servable === false) continue;
      const file = servable.opened ?? (await this.#open(lookup, sidecar));
      const tag = tagIn(await file?.readStart(ETAG_FILE_LIMIT));
      if (tag !== undefined) return tag;
    }
    return undefined;
  }

  #statusOf(req: FerryRequest): number | undefined {
    const s = this.#status;
    if (s === undefined) return req.error?.status;
    if (typeof s === 'number') return s;
    const n = Number(s.render(req));
    if (!Number.isInteger(n) || n < 100 || n > 999)
      throw new HttpError(500, undefined, { cause: new Error(`status_code rendered as "${s.render(req)}"`) });
    return n;
  }

  async #notFound(req: FerryRequest, res: ResponseWriter, next: Handler, lookup: Lookup): Promise<void> {
    if (this.#fallback !== undefined) {
      const found = await this.#find(req, lookup, this.#fallback);
      if (found?.info.isFile()) return this.#send(req, res, lookup, found);
    }
    if (this.#passThru) return next(req, res);
    throw new HttpError(404);
  }
}

/** Go's path.Base: the last element, trailing slashes ignored; `/` for the root, `.` for nothing. */
function lastElement(path: string): string {
  if (path === '') return '.';
  let end = path.length;
  while (end > 0 && path[end - 1] === '/') end--;
  return end === 0 ? '/' : path.slice(path.lastIndexOf('/', end - 1) + 1, end);
}

/**
 * Where `canonical_uris` sends the client, or undefined: a folder (or its implicit index) wants a
 * trailing slash, a file none. Judged on the URI the client sent, before any rewrite, and only
 * when a rewrite kept its last element (Caddy #4205): a rewrite to another file name — an SPA's
 * `/some/dir` → `/index.html` — is the admin's choice and never redirects (nor loops). The
 * location is the client's own path, percent-encoding kept, with its own query (Caddy appends the
 * rewritten one, which would leak an internal query to the browser).
 */
function canonicalLocation(req: FerryRequest, wantsSlash: boolean): string | undefined {
  const orig = req.originalUrl;
  const rewritten = orig !== req.url;
  const path = rewritten ? req.originalPath : req.path;
  if (path.endsWith('/') === wantsSlash) return undefined;
  if (rewritten && lastElement(path) !== lastElement(req.path)) return undefined;
  const q = rewritten ? orig.indexOf('?') : -1;
  const rawPath = !rewritten ? req.rawPath : q === -1 ? orig : orig.slice(0, q);
  const query = !rewritten ? req.rawQuery : q === -1 ? '' : orig.slice(q + 1);
  const to = wantsSlash ? `${rawPath}/` : dropSlash(rawPath);
  if (to === undefined) return undefined;
  return query === '' ? to : `${to}?${query}`;
}

/** The raw path without the trailing slash its decoded form ends with (`/` or an encoded `%2F`). */
function dropSlash(rawPath: string): string | undefined {
  if (rawPath.endsWith('/')) return rawPath.slice(0, -1);
  if (/%2f$/i.test(rawPath)) return rawPath.slice(0, -3);
  return undefined;
}

/** A 308 to `location` on this host (Caddy's redirect). */
function redirect(res: ResponseWriter, location: string): Promise<void> {
  // `//host/…` would be another site to a browser: an open redirect.
  let to = location;
  while (to.startsWith('//')) to = to.slice(1);
  if (to === '' || to.startsWith('?')) to = `/${to}`;
  res.statusCode = 308;
  res.setHeader('location', to);
  res.setHeader('content-length', 0);
  res.end();
  return Promise.resolve();
}

/** `http.handlers.file_server`: serves files from `root`, as Caddy's file_server. */
export const fileServerModule = defineModule({
  id: 'http.handlers.file_server',
  description: 'Serves static files from a root folder: index files, listings, precompressed sidecars, Range and conditional requests.',
  config: fileServerSchema,
  validate: validateFileServer,
  async provision(cfg, ctx) {
    const server = new FileServer(cfg, ctx);
    await server.checkRoot(ctx);
    return server.middleware;
  },
});

/** `fileServer({ root, indexNames, browse, precompressed, … })`: the file_server handler in code. */
export const fileServer = moduleFactory(fileServerModule);
