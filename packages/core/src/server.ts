import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import {
  createSecureServer as createH2SecureServer,
  createServer as createH2Server,
  Http2ServerRequest,
  Http2ServerResponse,
  type Http2Server,
  type Http2SecureServer,
  type Http2Session,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { createHash, X509Certificate } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Registry as MetricsRegistry } from 'prom-client';
import { isServed, observeRequest, requestMetrics, type RequestMetrics } from './request_metrics.js';
import { KeptState } from './kept.js';
import type { Services } from './services.js';
import { HttpError } from './errors.js';
import { parseListen, type ListenAddress } from './listen.js';
import { createLogger, silentLogger, type Logger } from './log.js';
import type { Registry, ServerInfo } from './module.js';
import { Provisioner, type HandlerInput, type RouteInput } from './provision.js';
import { Arrival, FerryRequest } from './request.js';
import { DONE, type Handler, type Middleware, type Protocol, type ResponseWriter } from './types.js';
import { Http1Writer, Http2Writer } from './writer.js';
import { parseDuration } from './duration.js';
import { ReplaySocket } from './replay.js';
import { adoptTarget } from './target.js';
import { defaultRegistry } from './standard.js';

export type HttpProtocolName = 'h1' | 'h2' | 'h2c';

/** A certificate and its private key, PEM. */
export interface CertificatePair {
  cert: string | Buffer;
  key: string | Buffer;
}

/** Options of `createServer`, the code front door. Durations are milliseconds or Caddy duration strings. */
export interface ServerOptions {
  /** Name in logs and metrics. */
  name?: string;
  /** JSON path of this server in a config, prefixed to the paths of config errors. */
  configPath?: string;
  /** Addresses to listen on: `":8080"`, `"127.0.0.1:0"`. Default `":8080"`. */
  listen?: string | readonly string[];
  /** Default `["h1", "h2"]` (h2 only with TLS). Add `"h2c"` for cleartext HTTP/2 by prior knowledge. */
  protocols?: readonly HttpProtocolName[];
  /** The routes, as in config: `{ match, handle, terminal, group }`. */
  routes?: readonly RouteInput[];
  /** The simplest case: one handler, or a list of middlewares, for every request. */
  handler?: Handler | readonly HandlerInput[];
  /** Error routes, with `{http.error.status_code}` and `{http.error.message}`. */
  errors?: { routes: readonly RouteInput[] };
  /** Serve HTTPS with these certificates (chosen by SNI; the first is the default). */
  tls?: { certificates: readonly CertificatePair[] };
  readTimeout?: number | string;
  readHeaderTimeout?: number | string;
  writeTimeout?: number | string;
  idleTimeout?: number | string;
  maxHeaderBytes?: number;
  /**
   * Most streams one HTTP/2 connection may have open at once (`SETTINGS_MAX_CONCURRENT_STREAMS`,
   * RFC 9113 §6.5.2). Default 250, as Go's and Caddy's: without a limit one connection can open
   * thousands of streams, each holding memory and perhaps an upstream connection.
   */
  maxConcurrentStreams?: number;
  enableFullDuplex?: boolean;
  /** Access log on. */
  logs?: boolean;
  /** A pino logger; `false` for none. Default: JSON lines on stderr. */
  logger?: Logger | false;
  /** Modules available to JSON handler and matcher objects in `routes`. Default: the standard ones. */
  registry?: Registry;
  /**
   * Values modules share and keep across config reloads (`ctx.keep`); a config's servers, and the
   * configs an app reloads, get one. Default: this server's own; give several code-first servers
   * the same one to let them share.
   */
  kept?: KeptState;
  /** What this host provides to modules (`ctx.service(name)`): a cluster relay, a broker. Default: none. */
  services?: Services;
  /** Where metrics go; default a fresh prom-client registry. */
  metrics?: MetricsRegistry;
  /**
   * Collect per-request metrics (`ferry_http_requests_total`, …). They are collected anyway once
   * a `metrics` handler serves this server's registry.
   */
  requestMetrics?: boolean;
  /** How long a stop waits for in-flight requests. Default 10s. */
  gracePeriod?: number | string;
}

/** `ServerOptions.maxConcurrentStreams` when unset (and the config's `max_concurrent_streams`). */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 250;

const ms = (v: number | string | undefined, fallback: number): number =>
  v === undefined ? fallback : typeof v === 'number' ? v : parseDuration(v);

/** The end of the chain: nothing more to do. */
const END: Handler = () => DONE;

/**
 * The end of the error routes, Caddy's errorEmptyHandler: error routes that answer nothing still
 * send the error's status (with an empty body), not the empty 200 of the main chain.
 */
const ERROR_END: Handler = async (req, res) => {
  if (!res.headersSent) res.statusCode = req.error?.status ?? 500;
};

/** One provisioned config of a server: its chain, its modules, and the requests it is serving. */
interface Generation {
  handler: Handler;
  provisioner: Provisioner;
  /** Aborted when this generation stops taking requests (server stop, or replaced by a reload). */
  stopping: AbortController;
  active: number;
  drained: (() => void) | undefined;
  /** Request metrics, decided at this generation's first request (every server of its config is provisioned by then); null: off. */
  metrics: RequestMetrics | null | undefined;
  /** The owning server's count; a reload hands the generation to the server that keeps listening. */
  release: () => void;
  settle: () => void;
}

/** Picks the certificate for an SNI name: the first whose names cover it, else the first. */
function sniSelector(pairs: readonly CertificatePair[]): {
  defaults: CertificatePair;
  SNICallback?: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
} {
  const defaults = pairs[0]!;
  if (pairs.length === 1) return { defaults };
  const entries = pairs.map((p) => ({ x509: new X509Certificate(p.cert), ctx: createSecureContext({ cert: p.cert, key: p.key }) }));
  return {
    defaults,
    SNICallback(name, cb) {
      const hit = entries.find((e) => e.x509.checkHost(name) !== undefined) ?? entries[0]!;
      cb(null, hit.ctx);
    },
  };
}

const H2_PREFACE_START = 'PRI ';

/**
 * A Ferry server: its routes compiled once into one handler, served on every listener over
 * HTTP/1.1, h2 (TLS, by ALPN) and h2c (prior knowledge) alike.
 */
export class FerryServer {
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly #options: ServerOptions;
  readonly #registry: Registry;
  readonly #kept: KeptState;
  readonly #listen: ListenAddress[];
  readonly #protocols: Set<HttpProtocolName>;
  #stopping = new AbortController();
  /** The provisioned config serving new requests; a reload swaps it (see adopt). */
  #gen: Generation | undefined;
  /** Earlier generations still finishing their requests, then their cleanup. */
  readonly #retiring = new Set<Promise<void>>();
  #listeners: {
    server: NetServer | HttpServer | Http2Server | Http2SecureServer;
    h1?: HttpServer;
    h2?: Http2Server | Http2SecureServer;
    address?: AddressInfo;
  }[] = [];
  #active = 0;
  #drained: (() => void) | undefined;
  #sessions = new Set<Http2Session>();
  #hijacked = new Set<Duplex>();
  /** Every accepted TCP connection, so a stop can end even those that never sent a request. */
  #sockets = new Set<Socket>();
  #accessLog: Logger | undefined;
  #closing: Promise<void> | undefined;
  readonly #fullDuplex: boolean;
  readonly #writeTimeout: number;
  #stoppingNow = false;
  #hijackedGone: (() => void) | undefined;

  constructor(options: ServerOptions = {}) {
    this.#options = options;
    this.name = options.name ?? 'default';
    this.logger = options.logger === false ? silentLogger() : (options.logger ?? createLogger());
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.#registry = options.registry ?? defaultRegistry;
    this.#kept = options.kept ?? new KeptState();
    const listen = options.listen ?? [':8080'];
    this.#listen = (typeof listen === 'string' ? [listen] : listen).map(parseListen);
    this.#protocols = new Set(options.protocols ?? ['h1', 'h2']);
    if (options.logs) this.#accessLog = this.logger.child({ logger: 'http.log.access', server: this.name });
    this.#fullDuplex = options.enableFullDuplex === true;
    this.#writeTimeout = ms(options.writeTimeout, 0);
  }

  /** Aborts when the server begins to stop: long-lived streams (SSE, WebSocket, duplex) end on it. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Requests being handled right now. */
  get activeRequests(): number {
    return this.#active;
  }

  /** Warnings found while provisioning (unknown placeholders, …). */
  get warnings() {
    return this.#gen?.provisioner.warnings ?? [];
  }

  /**
   * Validates and provisions the routes: every module's config is checked against its schema
   * and every problem is reported (as one ConfigError) before anything listens.
   */
  async provision(): Promise<void> {
    if (this.#gen) return;
    const info: ServerInfo = {
      name: this.name,
      enableFullDuplex: this.#options.enableFullDuplex === true,
      stopping: this.#stopping.signal,
    };
    const p = new Provisioner(this.#registry, this.logger, this.metrics, info, this.#options.services, this.#kept);
    const base = this.#options.configPath ?? '';
    const at = (s: string) => (base ? `${base}.${s}` : s);
    let chain: Middleware;
    const h = this.#options.handler;
    if (typeof h === 'function') chain = (req, res) => h(req, res);
    else if (h) chain = await p.compileHandlers(h, at('handler'));
    else chain = await p.compileRoutes(this.#options.routes ?? [], at('routes'));
    const errRoutes = this.#options.errors?.routes;
    const errors = errRoutes ? await p.compileRoutes(errRoutes, at('errors.routes')) : undefined;
    try {
      p.finish();
    } catch (err) {
      await p.cleanup();
      throw err;
    }
    // Config front door: loadConfig's caller reports the warnings of all servers together.
    if (this.#options.configPath === undefined) for (const w of p.warnings) this.logger.warn({ path: w.path }, w.message);
    const gen: Generation = {
      handler: this.#serve(chain, errors),
      provisioner: p,
      stopping: this.#stopping,
      active: 0,
      drained: undefined,
      metrics: undefined,
      release: this.#release,
      settle: () => {
        if (--gen.active === 0) gen.drained?.();
        gen.release();
      },
    };
    this.#gen = gen;
  }

  /**
   * What must be equal for a reload to keep this server's listeners: everything but the routes.
   * (A change here — addresses, protocols, TLS material, timeouts — means new listeners.)
   */
  listenerKey(): string {
    const o = this.#options;
    const certs = o.tls?.certificates.map((c) => createHash('sha256').update(c.cert).update(c.key).digest('hex'));
    return JSON.stringify([
      this.name,
      this.#listen.map((l) => l.text),
      [...this.#protocols].sort(),
      certs,
      o.readTimeout,
      o.readHeaderTimeout,
      o.writeTimeout,
      o.idleTimeout,
      o.maxHeaderBytes,
      o.maxConcurrentStreams,
      o.enableFullDuplex,
      o.logs,
      o.requestMetrics,
      o.gracePeriod,
    ]);
  }

  /**
   * Zero-downtime reload: this server keeps its listeners and connections, and new requests go to
   * `next`'s provisioned routes from now on. Requests in flight finish on the old routes; the old
   * modules are told to stop (long-lived streams get their close delay) and are cleaned up once
   * their requests have drained, or after the grace period. `next` must be provisioned and is
   * not used after this.
   */
  adopt(next: FerryServer): void {
    const fresh = next.#gen;
    if (!fresh) throw new Error('adopt: provision the new server first');
    const old = this.#gen;
    fresh.release = this.#release;
    this.#gen = fresh;
    this.#stopping = fresh.stopping;
    if (!old) return;
    const grace = ms(this.#options.gracePeriod, 10_000);
    const retire = (async () => {
      old.stopping.abort();
      if (old.active > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, grace);
          old.drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await old.provisioner.cleanup();
    })();
    this.#retiring.add(retire);
    void retire.finally(() => this.#retiring.delete(retire));
  }

  #serve(chain: Middleware, errors: Middleware | undefined): Handler {
    const logger = this.logger;
    const slow = async (req: FerryRequest, res: ResponseWriter, pending: Promise<void>) => {
      try {
        await pending;
      } catch (err) {
        await handleError(req, res, err, errors, logger);
      }
      finishResponse(req, res);
    };
    return (req, res) => {
      let pending: Promise<void>;
      try {
        pending = chain(req, res, END);
      } catch (err) {
        pending = Promise.reject(err);
      }
      // Handlers that finish synchronously return the shared DONE: no promise is made or awaited.
      if (pending !== DONE) return slow(req, res, pending);
      finishResponse(req, res);
      return DONE;
    };
  }

  /** Provisions (if not yet) and starts every listener. Resolves once all are bound. */
  async listen(): Promise<this> {
    await this.provision();
    try {
      for (const addr of this.#listen) this.#listeners.push(await this.#bind(addr));
    } catch (err) {
      await this.close({ gracePeriod: 0 });
      throw err;
    }
    return this;
  }

  /** The bound addresses, in listener order. */
  get addresses(): AddressInfo[] {
    return this.#listeners.flatMap((l) => (l.address ? [l.address] : []));
  }

  /** A URL for the first listener (`http://127.0.0.1:PORT`), handy in tests. */
  get url(): string {
    const a = this.addresses[0];
    if (!a) throw new Error('server is not listening');
    const host = a.family === 'IPv6' ? `[${a.address === '::' ? '::1' : a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
    return `${this.#options.tls ? 'https' : 'http'}://${host}:${a.port}`;
  }

  #h1Options() {
    const o = this.#options;
    return {
      ServerResponse: Http1Writer as unknown as typeof import('node:http').ServerResponse,
      maxHeaderSize: o.maxHeaderBytes,
      requestTimeout: ms(o.readTimeout, 0),
      // Node wants headersTimeout ≤ requestTimeout: a read_timeout shorter than the default
      // header timeout bounds the headers too.
      headersTimeout: Math.min(ms(o.readHeaderTimeout, 60_000), ms(o.readTimeout, 0) || Infinity),
      keepAliveTimeout: ms(o.idleTimeout, 300_000),
      connectionsCheckingInterval: Math.max(250, Math.min(30_000, ms(o.readHeaderTimeout, 60_000) / 4)),
    };
  }

  #attachH1(server: HttpServer, secure: boolean, sharedWithH2 = false): void {
    const o = this.#h1Options();
    // https/http2-with-allowHTTP1 servers read these from the instance, not the options.
    server.requestTimeout = o.requestTimeout;
    server.headersTimeout = o.headersTimeout;
    server.keepAliveTimeout = o.keepAliveTimeout;
    // An h2 server with allowHTTP1 checks these timeouts every 30 s by default, whatever they are:
    // a 500ms read_header_timeout would hold a stalled client for up to 30 s.
    (server as HttpServer & { connectionsCheckingInterval: number }).connectionsCheckingInterval = o.connectionsCheckingInterval;
    if (o.maxHeaderSize !== undefined) (server as HttpServer & { maxHeaderSize?: number }).maxHeaderSize = o.maxHeaderSize;
    // On an h2 server with allowHTTP1 this listener sits beside #attachH2's on the same emitter:
    // h2 requests are #attachH2's, or each would be handled twice (once mislabelled http/1.1).
    if (sharedWithH2) {
      server.on('request', (req: IncomingMessage | Http2ServerRequest, res: Http1Writer) => {
        if (!(req instanceof Http2ServerRequest)) this.#dispatch(req, res, 'http/1.1', secure, Arrival.Request);
      });
    } else {
      server.on('request', (req: IncomingMessage, res: Http1Writer) => this.#dispatch(req, res, 'http/1.1', secure, Arrival.Request));
    }
    // With these listeners Node stops parsing at an Upgrade/CONNECT and hands us the socket and the
    // bytes it read past the headers (`head`): the only lossless way to take a connection over.
    const takeover = (req: IncomingMessage, socket: Socket, head: Buffer) => {
      // A reset or EPIPE is the client leaving: the response's 'close' and req.signal report it.
      socket.on('error', () => {});
      const res = new Http1Writer(req);
      res.attachUpgradeSocket(socket, head);
      this.#dispatch(req, res, 'http/1.1', secure, Arrival.Takeover);
    };
    server.on('upgrade', takeover);
    // Without this listener Node answers 100 Continue itself, before any handler has looked.
    server.on('checkContinue', (req: IncomingMessage | Http2ServerRequest, res: Http1Writer) => {
      if (req instanceof Http2ServerRequest) return; // h2, handled by #attachH2
      this.#dispatch(req, res, 'http/1.1', secure, Arrival.Continue);
    });
    server.on('connect', (req: IncomingMessage, a: unknown, head: unknown) => {
      if (a instanceof Http2ServerResponse) return; // h2 CONNECT, handled by #attachH2
      takeover(req, a as Socket, head as Buffer);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // As Node's own socketOnError: no error head once a response has started on this socket
      // (e.g. a bad chunk arrives while the handler streams its answer) — it would be spliced
      // into that response's body. Just cut the connection then.
      const inFlight = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
      if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET' && !inFlight?._headerSent) {
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
        socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      }
      socket.destroy();
    });
  }

  #attachH2(server: Http2Server | Http2SecureServer, protocol: Protocol, secure: boolean): void {
    server.on('request', (req: Http2ServerRequest | IncomingMessage, res: Http2Writer | Http1Writer) => {
      if (req instanceof Http2ServerRequest) this.#dispatch(req, res as Http2Writer, protocol, secure, Arrival.Request);
    });
    // The compat layer answers CONNECT with 405 unless someone listens for 'connect' (nodejs/node#36977).
    server.on('checkContinue', (req: Http2ServerRequest | IncomingMessage, res: Http2Writer | Http1Writer) => {
      if (req instanceof Http2ServerRequest) this.#dispatch(req, res as Http2Writer, protocol, secure, Arrival.Continue);
    });
    server.on('connect', (req: Http2ServerRequest | IncomingMessage, res: unknown) => {
      if (res instanceof Http2ServerResponse)
        this.#dispatch(req as Http2ServerRequest, res as Http2Writer, protocol, secure, Arrival.Request);
    });
    server.on('session', (session: ServerHttp2Session) => {
      this.#sessions.add(session);
      // A session error ends its streams, each of which reports it to its own handler (req.signal).
      session.on('error', () => {});
      session.once('close', () => this.#sessions.delete(session));
      if (this.#stoppingNow) session.close();
    });
    const idle = ms(this.#options.idleTimeout, 300_000);
    server.setTimeout(idle);
    // An idle timeout never kills a live stream that is merely quiet: only sessions without streams close.
    server.on('timeout', (session: ServerHttp2Session) => {
      const state = session.state as { streamsOpen?: number; localWindowSize?: number };
      if (!state || !(state as { streamsOpen?: number }).streamsOpen) session.close();
    });
    // Emitted beside the session's own 'error' (handled above); without a listener Node would throw.
    server.on('sessionError', () => {});
  }

  async #bind(addr: ListenAddress) {
    const o = this.#options;
    const tls = o.tls;
    const protocols = this.#protocols;
    let server: NetServer | HttpServer | Http2Server | Http2SecureServer;
    let h1: HttpServer | undefined;
    let h2: Http2Server | Http2SecureServer | undefined;
    const h2Settings = {
      enableConnectProtocol: true,
      maxConcurrentStreams: o.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      ...(o.maxHeaderBytes ? { maxHeaderListSize: o.maxHeaderBytes } : {}),
    };
    if (tls) {
      if (tls.certificates.length === 0) throw new Error('TLS is on but no certificate is loaded');
      const { defaults, SNICallback } = sniSelector(tls.certificates);
      const tlsOpts = {
        cert: defaults.cert,
        key: defaults.key,
        ...(SNICallback ? { SNICallback } : {}),
        // As Go's tlsHandshakeTimeout: a client that never finishes its handshake is bounded by
        // read_header_timeout too, not by Node's default of 120 s.
        ...(o.readHeaderTimeout !== undefined ? { handshakeTimeout: ms(o.readHeaderTimeout, 120_000) } : {}),
      };
      if (protocols.has('h2')) {
        const s = createH2SecureServer({
          ...tlsOpts,
          allowHTTP1: protocols.has('h1'),
          settings: h2Settings,
          Http1ServerResponse: Http1Writer as unknown as typeof import('node:http').ServerResponse,
          Http2ServerResponse: Http2Writer as unknown as typeof Http2ServerResponse,
        });
        this.#attachH2(s, 'h2', true);
        if (protocols.has('h1')) this.#attachH1(s as unknown as HttpServer, true, true);
        server = h2 = s;
      } else {
        const s = createHttpsServer({ ...tlsOpts, ...this.#h1Options() });
        this.#attachH1(s, true);
        server = h1 = s;
      }
    } else if (protocols.has('h2c')) {
      h2 = createH2Server({ settings: h2Settings, Http2ServerResponse: Http2Writer as unknown as typeof Http2ServerResponse });
      this.#attachH2(h2, 'h2c', false);
      if (protocols.has('h1')) {
        h1 = createHttpServer(this.#h1Options());
        this.#attachH1(h1, false);
        // One cleartext port, two protocols: the h2 connection preface (RFC 9113 §3.4) tells them apart.
        const h1s = h1;
        const h2s = h2;
        // Until its first bytes a connection belongs to neither server, so neither's timeouts
        // apply: a client that connects and stays silent gets read_header_timeout here.
        const sniffTimeout = ms(o.readHeaderTimeout, 60_000);
        server = createNetServer({ noDelay: true }, (socket) => {
          // Before the first bytes nothing depends on this socket: an error just closes it.
          socket.on('error', () => {});
          const silent = () => socket.destroy();
          socket.setTimeout(sniffTimeout, silent);
          socket.once('data', (chunk: Buffer) => {
            socket.setTimeout(0);
            socket.off('timeout', silent);
            socket.pause();
            if (chunk.toString('latin1', 0, 4) === H2_PREFACE_START) {
              h2s.emit('connection', new ReplaySocket(socket, chunk));
            } else {
              socket.unshift(chunk);
              h1s.emit('connection', socket);
              socket.resume();
            }
          });
        });
      } else server = h2;
    } else {
      const s = createHttpServer(this.#h1Options());
      this.#attachH1(s, false);
      server = h1 = s;
    }
    server.on('error', (err) => this.logger.error({ err, listen: addr.text }, 'listener error'));
    server.on('connection', (socket: Socket) => {
      // Every accepted socket, whatever the path (Node sets it for plain HTTP only, not under TLS):
      // with Nagle's algorithm a small write waits for the peer's delayed ACK, ~40 ms per exchange.
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`cannot listen on ${addr.text}: ${err.message}`, { cause: err }));
      server.once('error', onError);
      server.listen({ host: addr.host, port: addr.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    // The h1 server of a shared cleartext port never listens itself, and Node starts its connection
    // tracking (headersTimeout, requestTimeout, closeIdleConnections) on 'listening': start it now.
    if (h1 && h1 !== server) h1.emit('listening');
    const address = server.address() as AddressInfo;
    this.logger.info(
      { server: this.name, listen: addr.text, port: address.port, tls: Boolean(tls), protocols: [...protocols] },
      'listening',
    );
    return { server, h1, h2, address };
  }

  #dispatch(
    raw: IncomingMessage | Http2ServerRequest,
    res: Http1Writer | Http2Writer,
    protocol: Protocol,
    secure: boolean,
    arrival: Arrival,
  ): void {
    const req = new FerryRequest(raw, res, protocol, secure, arrival);
    // Before any matcher: one interpretation of the target for routes, placeholders and upstreams.
    if (!adoptTarget(req)) {
      res.closeAfterResponse();
      writeErrorResponse(res, new HttpError(400, 'malformed request target'));
      return;
    }
    if (this.#fullDuplex) res.enableFullDuplex();
    const gen = this.#gen!;
    gen.active++;
    this.#active++;
    // A request counts as in flight until its response has closed (all bytes written, or aborted),
    // in the generation (config) that took it: a reload lets it finish there.
    let onClose = gen.settle;
    const metrics = gen.metrics === undefined ? this.#requestMetrics(gen) : gen.metrics;
    if (this.#accessLog || metrics) {
      const start = performance.now();
      void req.remoteAddress; // read the peer while the connection is surely there
      metrics?.inFlight.inc({ server: this.name });
      onClose = () => {
        this.#observe(req, res, start, metrics);
        gen.settle();
      };
    }
    res.once('close', onClose);
    if (res.hijack !== undefined) this.#trackTakeover(res, onClose);
    if (this.#stoppingNow) res.closeAfterResponse();
    if (this.#writeTimeout > 0) {
      const t = setTimeout(() => {
        if (!res.writableFinished) res.destroy();
      }, this.#writeTimeout);
      res.once('close', () => clearTimeout(t));
    }
    const done = gen.handler(req, res);
    // The common case settles synchronously with the shared resolved promise: nothing to await.
    if (done !== DONE) done.catch(this.#unhandled(res));
  }

  /** One request left flight (server-wide count). Shared by every request: no closure per request. */
  readonly #release = (): void => {
    if (--this.#active === 0) this.#drained?.();
  };

  #unhandled(res: ResponseWriter) {
    return (err: unknown) => {
      this.logger.error({ err }, 'unhandled error while finishing a response');
      if (!res.destroyed) res.destroy();
    };
  }

  /** A taken-over connection leaves the request count at once; its socket stays tracked until it closes. */
  #trackTakeover(res: ResponseWriter, onClose: () => void): void {
    res.onHijack((conn) => {
      this.#hijacked.add(conn);
      conn.once('close', () => {
        this.#hijacked.delete(conn);
        this.#hijackedGone?.();
      });
      // The response will never 'close' now (its socket was detached): settle it here.
      res.removeListener('close', onClose);
      onClose();
    });
  }

  #requestMetrics(gen: Generation): RequestMetrics | null {
    gen.metrics = this.#options.requestMetrics || isServed(this.metrics) ? requestMetrics(this.metrics) : null;
    return gen.metrics;
  }

  #observe(req: FerryRequest, res: ResponseWriter, start: number, metrics: RequestMetrics | null): void {
    const seconds = (performance.now() - start) / 1000;
    const status = res.writableFinished ? res.statusCode : 499;
    if (metrics) observeRequest(metrics, this.name, req.method, status, seconds);
    this.#accessLog?.info(
      {
        request: {
          remote_ip: req.remoteAddress,
          remote_port: String(req.remotePort),
          proto: req.protocol,
          method: req.method,
          host: req.authority,
          uri: req.url,
          headers: { 'User-Agent': req.headers['user-agent'] },
        },
        duration: seconds,
        status,
        resp_headers: { 'Content-Type': res.getHeader('content-type') },
      },
      'handled request',
    );
  }

  /**
   * Stops gracefully: stop accepting, let in-flight requests finish within `gracePeriod`, then
   * close what is left (long-lived streams were told through `stopping` at the start), then
   * run every module's cleanup.
   */
  close(options: { gracePeriod?: number | string } = {}): Promise<void> {
    this.#closing ??= this.#close(ms(options.gracePeriod ?? this.#options.gracePeriod, 10_000));
    return this.#closing;
  }

  async #close(grace: number): Promise<void> {
    this.#stopping.abort();
    this.#stoppingNow = true;
    const closed = this.#listeners.map(
      (l) => new Promise<void>((resolve) => (l.server.listening ? l.server.close(() => resolve()) : resolve())),
    );
    const idle = () => {
      for (const l of this.#listeners) {
        l.h1?.closeIdleConnections();
        if (l.server !== l.h1 && 'closeIdleConnections' in l.server) (l.server as HttpServer).closeIdleConnections();
      }
    };
    for (const s of this.#sessions) s.close();
    idle();
    const deadline = Date.now() + grace;
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, grace);
        this.#drained = () => {
          idle();
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Taken-over connections (WebSockets, custom protocols) get the rest of the grace period to
    // close themselves — their owners were told through `stopping` (stream_close_delay, 1001).
    if (this.#hijacked.size > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#hijackedGone = () => {
          if (this.#hijacked.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const l of this.#listeners) {
      // A shared port's h1 server is not listening; close() only stops its connection checker.
      if (l.h1 && l.h1 !== l.server) l.h1.close();
      l.h1?.closeAllConnections();
      if (l.server !== l.h1 && 'closeAllConnections' in l.server) (l.server as HttpServer).closeAllConnections();
    }
    for (const s of this.#sessions) {
      try {
        s.destroy();
      } catch {
        // Node asserts when destroying a session over a JS stream (our h2c ReplaySocket) at some
        // states; the TCP sockets below are destroyed anyway.
      }
    }
    for (const s of this.#hijacked) s.destroy();
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closed);
    await Promise.all(this.#retiring);
    await this.#gen?.provisioner.cleanup();
    if (this.#listeners.length > 0) this.logger.info({ server: this.name }, 'stopped');
  }
}

/** Turns a thrown value into a response: the error routes, or the status and a short plain-text body. */
async function handleError(
  req: FerryRequest,
  res: ResponseWriter,
  err: unknown,
  errors: Middleware | undefined,
  logger: Logger,
): Promise<void> {
  const he = HttpError.from(err);
  if (he.status >= 500)
    logger.error(
      { err: err instanceof HttpError && err.cause ? err.cause : err, method: req.method, uri: req.url, status: he.status },
      'handler error',
    );
  else logger.debug({ method: req.method, uri: req.url, status: he.status, msg: he.message }, 'handler error');
  if (res.headersSent || res.hijacked) {
    // Too late for an error page: abort, so the client never mistakes a cut response for a whole one.
    if (!res.writableEnded) res.destroy();
    return;
  }
  if (errors) {
    req.error = he;
    // Error routes that write nothing still answer with the error's status (Caddy's errorEmptyHandler).
    res.statusCode = he.status;
    try {
      await errors(req, res, ERROR_END);
      return;
    } catch (again) {
      logger.error({ err: again }, 'error route failed');
      if (res.headersSent) {
        if (!res.writableEnded) res.destroy();
        return;
      }
    }
  }
  writeErrorResponse(res, he);
}

export function writeErrorResponse(res: ResponseWriter, he: HttpError): void {
  for (const name of res.getHeaderNames()) res.removeHeader(name);
  const body = `${he.expose ? he.message : (STATUS_CODES[he.status] ?? 'Error')}\n`;
  res.statusCode = he.status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(body);
}

/** After the chain: a response nobody wrote is Caddy's empty 200; a CONNECT nobody handled is 501. */
function finishResponse(req: FerryRequest, res: ResponseWriter): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.hijacked) return;
  if (!res.headersSent && req.isConnect) {
    res.statusCode = 501;
    res.end();
    return;
  }
  res.end();
}

/** The code front door: a server from routes (or one handler), with the same compiler as config. */
export function createServer(options: ServerOptions = {}): FerryServer {
  return new FerryServer(options);
}
