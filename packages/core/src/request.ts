import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Readable } from 'node:stream';
import { readArrayBuffer, readFormData, readJson, readText } from './body/read.js';
import type { BodyOptions, FormDataOptions } from './body/limits.js';
import { BodyState } from './body/state.js';
import type { InferOutput, StandardSchemaV1 } from './body/validate.js';
import { parseCookies, type RequestCookies } from './cookies.js';
import { HttpError } from './errors.js';
import type { Protocol, ResponseWriter } from './types.js';
import { decodePath } from './target.js';

/** How the server received a request, which tells what it may hold. */
export enum Arrival {
  /** The ordinary path. */
  Request,
  /** Through 'checkContinue': the client waits for 100 Continue before it sends the body. */
  Continue,
  /** Through 'upgrade'/'connect': Node stopped parsing; the connection may be taken over. */
  Takeover,
}

/** Route params by name (`req.params`): what the `pattern` matcher captured, percent-decoded. */
export type RequestParams = Readonly<Record<string, string | undefined>>;

/** Each HTTP/1.1 connection's peer, by its socket (FerryRequest#peer). */
const peers = new WeakMap<object, { readonly address: string; readonly port: number }>();

/** The params of a request no pattern matched: one shared, frozen, empty record. */
export const NO_PARAMS: RequestParams = Object.freeze(Object.create(null) as Record<string, string | undefined>);

/**
 * Gives a request the target it is served with before any handler runs (target.ts): not a
 * rewrite, so `originalUrl` is that target. Internal to core.
 */
export let adoptUrl: (req: FerryRequest, url: string) => void;

/** Why `req.signal` aborted: the client closed the connection or reset the stream. */
export class ClientGoneError extends Error {
  /** `FERRY_ERR_CLIENT_GONE` (docs/errors.md). */
  readonly code = 'FERRY_ERR_CLIENT_GONE';
  constructor() {
    super('client closed the connection before the response completed');
    this.name = 'ClientGoneError';
  }
}

/**
 * The request view every handler sees, the same for HTTP/1.1, h2 and h2c. URL parts are
 * computed lazily; `url` may be reassigned (a rewrite), which recomputes them.
 */
export class FerryRequest<P extends RequestParams = RequestParams> {
  /** The underlying `node:http` or `node:http2` request object. */
  readonly raw: IncomingMessage | Http2ServerRequest;
  readonly protocol: Protocol;
  readonly secure: boolean;
  /** The HTTP/1.1 `Upgrade` token, lower-cased, when the client asked for a protocol switch. */
  readonly upgrade: string | undefined;
  /** The `:protocol` of an RFC 8441 extended CONNECT over h2 (e.g. `"websocket"`). */
  readonly extendedConnectProtocol: string | undefined;
  #captures: Map<string, string> | undefined;
  #placeholders: Map<string, string> | undefined;
  #params: RequestParams | undefined;
  /** The error being handled, inside error routes. */
  error: HttpError | undefined;

  #method: string;
  #url: string;
  /** What `method` and `url` were before the first rewrite; undefined while unchanged. */
  #origMethod: string | undefined;
  #origUrl: string | undefined;
  #path: string | undefined;
  #rawPath: string | undefined;
  #rawQuery: string | undefined;
  #query: URLSearchParams | undefined;
  #vars: Record<string, unknown> | undefined;
  #cookies: RequestCookies | undefined;
  #ac: AbortController | undefined;
  #res: ResponseWriter;
  /** Made by the first limitBody() or body reader: a request that uses neither pays nothing. */
  #bodyState: BodyState | undefined;
  /** Whether Ferry has handed out or read the body: a body read before that was read by someone else. */
  #bodyTaken = false;

  constructor(
    raw: IncomingMessage | Http2ServerRequest,
    res: ResponseWriter,
    protocol: Protocol,
    secure: boolean,
    arrival: Arrival = Arrival.Request,
  ) {
    this.raw = raw;
    this.#res = res;
    this.#method = raw.method ?? 'GET';
    this.#url = raw.url ?? '';
    this.protocol = protocol;
    this.secure = secure;
    // Nothing here reads the header object on the common path: Node builds it lazily, and a
    // handler that never looks at headers should not pay for it.
    if (arrival === Arrival.Continue) {
      // Expect: 100-continue is answered when the handler first reads the body (RFC 9110
      // §10.1.1), not up front: a handler that refuses the request never invites the upload.
      const body = raw as unknown as { _read(n: number): void };
      const read = body._read;
      body._read = function (this: unknown, n: number) {
        body._read = read;
        if (!res.headersSent && !res.destroyed) res.writeInformational(100);
        return read.call(this, n);
      };
    }
    if (protocol === 'http/1.1') {
      const up = arrival === Arrival.Takeover ? raw.headers.upgrade : undefined;
      this.upgrade = up ? up.trim().toLowerCase() : undefined;
      this.extendedConnectProtocol = undefined;
    } else {
      this.upgrade = undefined;
      const p = this.method === 'CONNECT' ? raw.headers[':protocol'] : undefined;
      this.extendedConnectProtocol = typeof p === 'string' ? p : undefined;
      // An h2 stream's socket view goes away with the stream: read the peer now.
      this.#peer();
    }
  }

  /** The request header fields (lower-case names; h2 pseudo-headers included). Mutable: header ops change it. */
  get headers(): IncomingHttpHeaders {
    return this.raw.headers;
  }

  #remoteAddress: string | undefined;
  #remotePort = 0;

  #peer(): void {
    // An h2c connection sniffed on a shared port runs over a JS stream wrapper; its peer is one level down.
    const socket = this.raw.socket as
      | (IncomingMessage['socket'] & { stream?: { remoteAddress?: string; remotePort?: number } })
      | undefined;
    // An HTTP/1.1 connection's requests share its socket: its peer is read once (a few
    // megamorphic loads through Node's getters) and found by the socket after that.
    const shared = this.protocol === 'http/1.1' && socket != null;
    let peer = shared ? peers.get(socket) : undefined;
    if (peer === undefined) {
      peer = {
        address: socket?.remoteAddress ?? socket?.stream?.remoteAddress ?? '',
        port: socket?.remotePort ?? socket?.stream?.remotePort ?? 0,
      };
      // A socket closed before its peer was read has none to give: not kept.
      if (shared && peer.address !== '') peers.set(socket, peer);
    }
    this.#remoteAddress = peer.address;
    this.#remotePort = peer.port;
  }

  /** The client's address (the connection's peer). */
  get remoteAddress(): string {
    if (this.#remoteAddress === undefined) this.#peer();
    return this.#remoteAddress!;
  }

  get remotePort(): number {
    if (this.#remoteAddress === undefined) this.#peer();
    return this.#remotePort;
  }

  /** Captures of `path_regexp` / `header_regexp` matchers, keyed like their placeholders (`name.1`). */
  get captures(): Map<string, string> {
    return (this.#captures ??= new Map());
  }

  /**
   * Sets a placeholder for the rest of this request, by its whole key: a matcher module telling
   * later handlers what it found (`http.matchers.file.relative`, as Caddy's `repl.Set`). Keys
   * under `http.matchers.` render through templates; a request that sets none pays nothing.
   */
  setPlaceholder(key: string, value: string): void {
    (this.#placeholders ??= new Map()).set(key, value);
  }

  /** A placeholder set by `setPlaceholder`; undefined when none was. */
  placeholder(key: string): string | undefined {
    return this.#placeholders?.get(key);
  }

  /**
   * The params of the last `pattern` matcher that matched (`/users/:id` gives `id`; a `*` gives
   * `0`, `1`, …), percent-decoded; a group that took no part is `undefined`. A record without a
   * prototype; with no pattern matched, a shared frozen empty one. A matcher module sets it.
   * `P` is what a `route(pattern, …)` handler knows of it from the pattern (typed_route.ts).
   */
  get params(): P {
    return (this.#params ?? NO_PARAMS) as P;
  }
  set params(value: RequestParams) {
    this.#params = value;
  }

  /** True for every CONNECT, classic or RFC 8441 extended. */
  get isConnect(): boolean {
    return this.method === 'CONNECT';
  }

  /** The request method. Assign to rewrite it (the `rewrite` handler's `method`); `originalMethod` keeps the first. */
  get method(): string {
    return this.#method;
  }
  set method(value: string) {
    this.#origMethod ??= this.#method;
    this.#method = value;
  }

  /**
   * The request target as received (`/path?query`); for a classic CONNECT, the authority. Assign
   * to rewrite: the URL parts follow, and `originalUrl` keeps the target the request came with.
   */
  get url(): string {
    return this.#url;
  }
  set url(value: string) {
    this.#origUrl ??= this.#url;
    this.#setUrl(value);
  }

  #setUrl(value: string): void {
    this.#url = value;
    this.#path = this.#rawPath = this.#rawQuery = undefined;
    this.#query = undefined;
  }

  /**
   * The target the request came with, before any rewrite (`{http.request.orig_uri}`, what the
   * access log records, as Caddy's): the origin-form the server gave it (target.ts).
   */
  get originalUrl(): string {
    return this.#origUrl ?? this.#url;
  }

  /** The percent-decoded path of `originalUrl`, as `path` is decoded: `path` before any rewrite (`{http.request.orig_uri.path}`). */
  get originalPath(): string {
    const orig = this.#origUrl;
    if (orig === undefined) return this.path;
    const q = orig.indexOf('?');
    return decodePath(q === -1 ? orig : orig.slice(0, q));
  }

  /** The method the request came with, before any rewrite (`{http.request.orig_method}`). */
  get originalMethod(): string {
    return this.#origMethod ?? this.#method;
  }

  static {
    adoptUrl = (req, url) => req.#setUrl(url);
  }

  #split(): void {
    const u = this.#url;
    const q = u.indexOf('?');
    this.#rawPath = q === -1 ? u : u.slice(0, q);
    this.#rawQuery = q === -1 ? '' : u.slice(q + 1);
  }

  /** The path as sent, percent-encoding intact. */
  get rawPath(): string {
    if (this.#rawPath === undefined) this.#split();
    return this.#rawPath!;
  }

  /** The percent-decoded path: byte-wise, invalid UTF-8 as U+FFFD, an escape that is not `%HH` as written. */
  get path(): string {
    return (this.#path ??= decodePath(this.rawPath));
  }

  /** The query string without its `?`. */
  get rawQuery(): string {
    if (this.#rawQuery === undefined) this.#split();
    return this.#rawQuery!;
  }

  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.rawQuery));
  }

  /** `Host` (HTTP/1.1) or `:authority` (h2), as sent. */
  get authority(): string {
    const h = this.headers;
    return (h[':authority'] as string | undefined) ?? h.host ?? '';
  }

  /** The host name, without port or IPv6 brackets kept as sent. */
  get host(): string {
    const a = this.authority;
    if (a.startsWith('[')) {
      const end = a.indexOf(']');
      return end === -1 ? a : a.slice(0, end + 1);
    }
    const colon = a.lastIndexOf(':');
    return colon === -1 ? a : a.slice(0, colon);
  }

  /** The port from the authority, or the scheme's default. */
  get port(): string {
    const a = this.authority;
    const end = a.startsWith('[') ? a.indexOf(']') + 1 : 0;
    const colon = a.indexOf(':', end);
    return colon === -1 ? (this.secure ? '443' : '80') : a.slice(colon + 1);
  }

  get scheme(): 'http' | 'https' {
    return this.secure ? 'https' : 'http';
  }

  /** The request body as a Node stream; past a `limitBody()` cap it fails with a 413 HttpError. */
  get body(): Readable {
    if (!this.#bodyTaken) this.#takeBody();
    return this.#bodyState?.stream ?? (this.raw as Readable);
  }

  #bodies(): BodyState {
    if (!this.#bodyTaken) this.#takeBody();
    return (this.#bodyState ??= new BodyState(this.raw, this.#res));
  }

  /**
   * The first time Ferry takes the body: one that was read already was read by the app Ferry is
   * mounted in (a body parser before Ferry's middleware). Its bytes are gone: forwarding or parsing
   * what is left would send a Content-Length with no body (the upstream waits) or an empty value.
   */
  #takeBody(): void {
    this.#bodyTaken = true;
    const raw = this.raw as Readable;
    if (!raw.readableDidRead) return;
    const { 'content-length': length, 'transfer-encoding': chunked } = this.raw.headers;
    if (chunked === undefined && (length === undefined || length === '0')) return;
    throw new HttpError(500, undefined, {
      cause: new Error(
        "the request body was read before Ferry got it — a body parser (express.json(), …) mounted before Ferry's middleware? Mount Ferry first, or let Ferry read the body (req.json())",
      ),
    });
  }

  /**
   * Caps the body at `maxSize` bytes (what the `request_body` handler does): a Content-Length
   * past it throws a 413 HttpError at once, before anything is read; a body that grows past it
   * fails `req.body` and the readers with a 413, and becomes the readers' default limit. A second
   * call can only lower the cap. Does nothing to Upgrade and CONNECT requests: what follows them
   * is a tunnel, not a body.
   */
  limitBody(maxSize: number): void {
    if (!Number.isSafeInteger(maxSize) || maxSize < 0)
      throw new TypeError(`limitBody: maxSize must be a non-negative integer, got ${maxSize}`);
    if (this.upgrade !== undefined || this.isConnect) return;
    this.#bodies().limit(maxSize, this.headers['content-length']);
  }

  /** Whether the body was read, by a reader or as a stream: it can be read only once. */
  get bodyUsed(): boolean {
    return this.#bodyState?.used ?? (this.raw as Readable).readableDidRead;
  }

  /**
   * The body parsed as JSON (Content-Type `application/json` or `…+json`, UTF-8), validated by
   * `schema` when one is given (zod, or any Standard Schema) and typed as its output. Errors are
   * HttpErrors: 415 (another Content-Type), 413 (past `limit`: 1 MiB by default), 400 (not JSON,
   * not UTF-8, a `__proto__` key, or a value the schema refuses — the message names each failing
   * path: `body.user.email: Invalid email address`).
   */
  json<S extends StandardSchemaV1>(schema: S, options?: BodyOptions): Promise<InferOutput<S>>;
  json<T = unknown>(options?: BodyOptions): Promise<T>;
  json(schemaOrOptions?: StandardSchemaV1 | BodyOptions, options?: BodyOptions): Promise<unknown> {
    return readJson(this.#bodies(), this.headers, schemaOrOptions, options);
  }

  /** The body as text, in the Content-Type's charset (UTF-8 by default): 413 past `limit` (1 MiB), 400 for invalid bytes, 415 for an unknown charset. */
  text(options?: BodyOptions): Promise<string> {
    return readText(this.#bodies(), this.headers, options);
  }

  /** The body's bytes, whatever the Content-Type: 413 past `limit` (1 MiB). */
  arrayBuffer(options?: BodyOptions): Promise<ArrayBuffer> {
    return readArrayBuffer(this.#bodies(), this.headers, options);
  }

  /**
   * The body of a form (`application/x-www-form-urlencoded`, or `multipart/form-data` with files
   * as `File` entries held in memory), parsed with busboy. Limits: `limit` bytes (1 MiB urlencoded,
   * 10 MiB multipart), `fields` (1000), `files` (100); past any, a 413. 415 for another
   * Content-Type, 400 for a malformed body.
   */
  formData(options?: FormDataOptions): Promise<FormData> {
    return readFormData(this.#bodies(), this.headers, options);
  }

  /** Per-request variables (the `vars` handler, `{http.vars.NAME}`). */
  get vars(): Record<string, unknown> {
    return (this.#vars ??= Object.create(null) as Record<string, unknown>);
  }

  /**
   * The request's cookies, name → value, parsed from the `Cookie` field(s) the first time they are
   * read (nothing is parsed for a handler that never looks). First occurrence of a name wins;
   * values are percent-decoded, kept as sent when they do not decode. No inherited keys.
   */
  get cookies(): RequestCookies {
    return (this.#cookies ??= parseCookies(this.headers.cookie));
  }

  /**
   * Aborts as soon as the client goes away (socket closed, stream reset) before the response
   * completed, whether or not the handler is reading or writing. Its reason is a `ClientGoneError`.
   */
  get signal(): AbortSignal {
    if (this.#ac) return this.#ac.signal;
    const ac = (this.#ac = new AbortController());
    const res = this.#res;
    if (res.destroyed && !res.writableFinished) ac.abort(new ClientGoneError());
    else
      res.once('close', () => {
        if (!res.writableFinished) ac.abort(new ClientGoneError());
      });
    return ac.signal;
  }
}
