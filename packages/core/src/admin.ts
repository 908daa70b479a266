import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError } from './errors.js';
import { parseListen } from './listen.js';
import { isPrototypeKey, prototypeKeyIssues } from './prototype-keys.js';

/**
 * What the admin API drives: a running config it can read, replace and stop. A `FerryApp` is one;
 * `ferry run --workers N` gives it one that fans every change out to its worker processes.
 */
export interface AdminTarget {
  /** The running config (JSON), or undefined before one is loaded. */
  readonly config: unknown;
  /**
   * Replaces the running config. A config that does not validate throws its `ConfigError` and
   * nothing changes; any other error means it could not be applied and the previous config runs.
   */
  reload(json: unknown): Promise<void>;
  /** Stops gracefully. */
  stop(): Promise<void>;
}

export interface AdminOptions {
  /** Default `localhost:2019`. */
  listen?: string;
  /** Origins (`host:port` or `scheme://host:port`) allowed besides the listen address's own. */
  origins?: readonly string[];
  /** Require an allowed `Origin` header on every request (not only when one is sent). */
  enforceOrigin?: boolean;
  logger: Logger;
  /** Called after `POST /stop` has stopped the app (the CLI exits there). */
  onStop?: () => void;
  /** Largest config body accepted, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /**
   * The settings above come from the config's `admin` section (`ferry run`): a change that edits
   * it is applied too, as in Caddy — a new `listen` is bound before the config is applied (a port
   * in use refuses the change, nothing applied) and the old address closes once the answer is
   * sent; `origins` and `enforce_origin` apply at once; `"disabled": true` closes the API after
   * answering.
   */
  followConfig?: boolean;
}

/** The admin options a config's `admin` section gives (`ferry run`); undefined when it disables the API. */
export function adminOptionsOf(config: unknown): Pick<AdminOptions, 'listen' | 'origins' | 'enforceOrigin'> | undefined {
  const a = (config as { admin?: { disabled?: boolean; listen?: string; origins?: string[]; enforce_origin?: boolean } } | undefined)
    ?.admin;
  if (a?.disabled === true) return undefined;
  return { listen: a?.listen ?? 'localhost:2019', origins: a?.origins ?? [], enforceOrigin: a?.enforce_origin === true };
}

/** An admin request that cannot be served: its status and a message saying what to change. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/**
 * Caddy's config paths: `/config/apps/http/servers/srv0/routes/0` → keys and array indices. A
 * segment naming an object prototype is refused: followed, it wrote to Object.prototype (#13).
 */
function segments(path: string): string[] {
  return path
    .split('/')
    .filter(Boolean)
    .map((raw) => {
      let seg: string;
      try {
        seg = decodeURIComponent(raw);
      } catch {
        throw new AdminError(400, `path segment "${raw}" is not valid percent-encoding`);
      }
      if (isPrototypeKey(seg))
        throw new AdminError(
          400,
          `"${seg}" is not allowed in a config path: it names a JavaScript object prototype, and no config has such a key`,
        );
      return seg;
    });
}

/** `segs[i]` as an array index: digits only (no `-1`, `1e3`, ` 1`). */
function arrayIndex(seg: string, segs: readonly string[], i: number): number {
  if (!/^(0|[1-9]\d{0,8})$/.test(seg)) throw new AdminError(400, `"${seg}" at "${segs.slice(0, i + 1).join('/')}" is not an array index`);
  return Number(seg);
}

type Container = Record<string, unknown> | unknown[];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Follows `segs` through own properties and array items only: never into a prototype. */
function walk(root: unknown, segs: readonly string[]): { parent: Container; key: string; value: unknown; exists: boolean } {
  let cur: unknown = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    if (Array.isArray(cur)) cur = cur[arrayIndex(seg, segs, i)];
    else if (isRecord(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw new AdminError(404, `path not found at "${segs.slice(0, i + 1).join('/')}"`);
  }
  const key = segs[segs.length - 1]!;
  if (Array.isArray(cur)) {
    const idx = arrayIndex(key, segs, segs.length - 1);
    return { parent: cur, key, value: cur[idx], exists: idx < cur.length };
  }
  if (isRecord(cur)) {
    const exists = Object.hasOwn(cur, key);
    return { parent: cur, key, value: exists ? cur[key] : undefined, exists };
  }
  throw new AdminError(404, `path not found at "${segs.slice(0, -1).join('/')}"`);
}

/** Refuses JSON holding a key that names an object prototype, with each one's JSON path. */
function refusePrototypeKeys(json: unknown): void {
  const issues = prototypeKeyIssues(json);
  if (issues.length > 0) throw new AdminError(400, 'invalid config: nothing changed', issues);
}

/** Applies one /config change to a copy of the config (Caddy's semantics), returning the copy. */
export function changeConfig(config: unknown, method: string, path: string, body: unknown): unknown {
  const segs = segments(path);
  if (segs.length === 0) {
    if (method === 'DELETE') return {};
    if (method === 'PATCH' && config === undefined) throw new AdminError(404, 'no config to patch');
    refusePrototypeKeys(body);
    return body;
  }
  const root = structuredClone(config ?? {});
  const { parent, key, value, exists } = walk(root, segs);
  const arr = Array.isArray(parent) ? parent : undefined;
  const idx = Number(key);
  // Creating past the end would make a sparse array (a billion items from one request); Caddy refuses too.
  if (arr && idx > arr.length && (method === 'POST' || method === 'PUT'))
    throw new AdminError(400, `index ${idx} at "${segs.join('/')}" is out of range: the array has ${arr.length} items`);
  const rec = parent as Record<string, unknown>;
  switch (method) {
    case 'POST':
      // POST appends to an array, otherwise creates or replaces.
      // Item by item: a spread of a body with a million items overflows the call stack.
      if (Array.isArray(value)) for (const item of Array.isArray(body) ? body : [body]) value.push(item);
      else if (arr) arr[idx] = body;
      else rec[key] = body;
      break;
    case 'PUT':
      // PUT creates: inserts into an array, and refuses to overwrite a key.
      if (arr) arr.splice(idx, 0, body);
      else if (exists) throw new AdminError(409, `"${segs.join('/')}" already exists (use PATCH to replace it)`);
      else rec[key] = body;
      break;
    case 'PATCH':
      if (!exists) throw new AdminError(404, `"${segs.join('/')}" does not exist (use PUT or POST to create it)`);
      if (arr) arr[idx] = body;
      else rec[key] = body;
      break;
    case 'DELETE':
      if (!exists) throw new AdminError(404, `"${segs.join('/')}" does not exist`);
      if (arr) arr.splice(idx, 1);
      else delete rec[key];
      break;
    default:
      throw new AdminError(405, `method ${method} not allowed on /config`);
  }
  // The whole result, so each problem's path is the one it has in the config.
  refusePrototypeKeys(root);
  return root;
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AdminError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AdminError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Answers; `after` runs once the answer has been handed to the OS. */
function send(res: ServerResponse, status: number, body?: unknown, after?: () => void): void {
  const text = body === undefined ? '' : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text, after);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * The admin API (Caddy's shape): `POST /load`, `GET|POST|PUT|PATCH|DELETE /config/[path]`,
 * `POST /stop`. Every change reloads the app with zero downtime; a config that does not
 * validate is refused with its JSON-path problems and the running one stays. Requests must name
 * the admin address as their Host (DNS-rebinding guard), and an Origin, when sent, must be allowed.
 */
export class AdminServer {
  readonly #app: AdminTarget;
  #o: AdminOptions;
  #server: Server;
  #allowed = new Set<string>();
  /**
   * Changes are applied one at a time, each reading the config the previous one left: a /config
   * change is a read-modify-write, and two of them overlapping (a load doing I/O) lost one.
   */
  #changes: Promise<unknown> = Promise.resolve();

  constructor(app: AdminTarget, options: AdminOptions) {
    this.#app = app;
    this.#o = options;
    this.#server = this.#createServer();
  }

  /** The bound address. */
  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  #createServer(): Server {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('clientError', (_err, socket) => socket.destroy());
    return server;
  }

  async start(): Promise<void> {
    await this.#listen(this.#server, this.#o);
    this.#allow(this.#o);
  }

  async #listen(server: Server, options: AdminOptions): Promise<void> {
    const addr = parseListen(options.listen ?? 'localhost:2019');
    const host = addr.host ?? '0.0.0.0';
    if (!LOOPBACK.has(host.replace(/^\[|\]$/g, ''))) {
      this.#o.logger.warn({ listen: addr.text }, 'the admin API listens beyond loopback: anyone who reaches it can change the config');
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`admin API cannot listen on ${addr.text}: ${err.message}`, { cause: err })));
      server.listen({ host, port: addr.port }, () => resolve());
    });
    this.#o.logger.info({ listen: `${host}:${(server.address() as AddressInfo).port}` }, 'admin API listening');
  }

  /** The Host and Origin values allowed: the bound address under its names, and `origins`. */
  #allow(options: AdminOptions): void {
    const host = parseListen(options.listen ?? 'localhost:2019').host ?? '0.0.0.0';
    const port = this.address.port;
    const allowed = new Set<string>();
    for (const h of new Set([host, 'localhost', '127.0.0.1', '[::1]'])) allowed.add(`${isIP(h) === 6 ? `[${h}]` : h}:${port}`);
    for (const o of options.origins ?? []) allowed.add(o.replace(/^[a-z]+:\/\//, ''));
    this.#allowed = allowed;
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }

  #checkOrigin(req: IncomingMessage): void {
    if (!this.#allowed.has(req.headers.host ?? '')) throw new AdminError(403, `host not allowed: ${req.headers.host ?? '(none)'}`);
    const origin = req.headers.origin;
    if (origin === undefined) {
      if (this.#o.enforceOrigin) throw new AdminError(403, 'an Origin header is required');
      return;
    }
    if (!this.#allowed.has(origin.replace(/^[a-z]+:\/\//, ''))) throw new AdminError(403, `origin not allowed: ${origin}`);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.#checkOrigin(req);
      const url = new URL(req.url ?? '/', 'http://admin');
      const method = req.method ?? 'GET';
      const limit = this.#o.maxBodyBytes ?? 16 * 1024 * 1024;
      if (url.pathname === '/load') {
        if (method !== 'POST') throw new AdminError(405, 'use POST /load');
        const json = await readJson(req, limit);
        refusePrototypeKeys(json);
        const after = await this.#serial(() => this.#apply(json));
        return send(res, 200, undefined, after);
      }
      if (url.pathname === '/stop') {
        if (method !== 'POST') throw new AdminError(405, 'use POST /stop');
        send(res, 200);
        await this.#app.stop();
        await this.close();
        this.#o.onStop?.();
        return;
      }
      if (url.pathname === '/config' || url.pathname.startsWith('/config/')) {
        const path = url.pathname.slice('/config'.length);
        if (method === 'GET') {
          const segs = segments(path);
          if (segs.length === 0) return send(res, 200, this.#app.config ?? null);
          const found = walk(this.#app.config, segs);
          if (!found.exists) throw new AdminError(404, `"${segs.join('/')}" does not exist`);
          return send(res, 200, found.value);
        }
        const body = method === 'DELETE' ? undefined : await readJson(req, limit);
        const after = await this.#serial(() => this.#apply(changeConfig(this.#app.config, method, path, body)));
        return send(res, 200, undefined, after);
      }
      throw new AdminError(404, `no such endpoint: ${url.pathname}`);
    } catch (err) {
      if (err instanceof AdminError) return send(res, err.status, { error: err.message, ...(err.issues ? { issues: err.issues } : {}) });
      this.#o.logger.error({ err }, 'admin request failed');
      return send(res, 500, { error: (err as Error).message });
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#changes.then(fn);
    this.#changes = run.catch(() => {});
    return run;
  }

  /**
   * Reloads the target with `config`; with `followConfig`, applies its `admin` section too. Returns
   * what is left to do once the answer has been sent (closing the old address).
   */
  async #apply(config: unknown): Promise<(() => void) | undefined> {
    const next = this.#o.followConfig ? await this.#prepare(config) : undefined;
    try {
      await this.#app.reload(config);
    } catch (err) {
      if (next?.server) void closeServer(next.server);
      if (err instanceof ConfigError) throw new AdminError(400, 'invalid config: nothing changed', err.issues);
      // Valid but not applicable (a port in use): the app went back to the previous config.
      throw new AdminError(400, `cannot apply the config: ${(err as Error).message}; the previous config was restored`);
    }
    if (!next) return undefined;
    if (next.options === undefined) {
      this.#o.logger.warn('the admin API is disabled by the new config: it closes now (restart ferry to get it back)');
      return () => void this.close();
    }
    this.#o = { ...this.#o, ...next.options };
    const old = this.#server;
    if (next.server) this.#server = next.server;
    this.#allow(this.#o);
    return next.server ? () => void closeServer(old) : undefined;
  }

  /** The admin settings of `config`, and a server already bound to its `listen` if that moved. */
  async #prepare(config: unknown): Promise<{ options: ReturnType<typeof adminOptionsOf>; server?: Server }> {
    const options = adminOptionsOf(config);
    if (!options || options.listen === (this.#o.listen ?? 'localhost:2019')) return { options };
    try {
      parseListen(options.listen!);
    } catch {
      return { options }; // not an address: the reload's validation says so, with its path
    }
    const server = this.#createServer();
    try {
      await this.#listen(server, { ...this.#o, ...options });
    } catch (err) {
      throw new AdminError(400, `cannot apply the config: ${(err as Error).message}; nothing changed`, [
        { path: 'admin.listen', message: (err as Error).message },
      ]);
    }
    return { options, server };
  }
}

/** Stops accepting and ends every connection, idle or not. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
