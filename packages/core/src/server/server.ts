import type { AddressInfo } from 'node:net';
import { Registry as MetricsRegistry } from 'prom-client';
import { KeptState } from '../kept.js';
import { type ListenAddress, parseListen } from '../listen.js';
import { createLogger, type Logger, silentLogger } from '../log.js';
import type { Registry } from '../module.js';
import { defaultRegistry } from '../standard.js';
import { Connections } from './connections.js';
import { type Dispatch, dispatcher } from './dispatch.js';
import { type Generation, provisionGeneration } from './generation.js';
import { InFlight } from './in-flight.js';
import { bindListener, type Listener } from './listeners.js';
import { RequestObserver } from './observe.js';
import {
  DEFAULT_DURATIONS,
  DEFAULT_LISTEN,
  DEFAULT_PROTOCOLS,
  type HttpProtocolName,
  listenerKey,
  millis,
  type ServerOptions,
} from './options.js';

/** The door toNodeHandler comes in by: a request another server delivered, served by this one's routes. */
export const serveForeign = Symbol('ferry.serveForeign');

/**
 * A Ferry server: its routes compiled once into one handler, served on every listener over
 * HTTP/1.1, h2 (TLS, by ALPN) and h2c (prior knowledge) alike. It composes the pieces: the
 * listeners (listeners.ts) hand each request to the dispatch (dispatch.ts), which runs it on the
 * current generation (generation.ts) and records it (observe.ts); a reload swaps generations, a
 * stop drains the requests and the connections (connections.ts).
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
  #listeners: Listener[] = [];
  /** Requests in flight, whichever generation took them. */
  readonly #inFlight = new InFlight();
  readonly #connections = new Connections();
  readonly #dispatch: Dispatch;
  #closing: Promise<void> | undefined;

  constructor(options: ServerOptions = {}) {
    this.#options = options;
    this.name = options.name ?? 'default';
    this.logger = options.logger === false ? silentLogger() : (options.logger ?? createLogger());
    this.metrics = options.metrics ?? new MetricsRegistry();
    this.#registry = options.registry ?? defaultRegistry;
    this.#kept = options.kept ?? new KeptState();
    const listen = options.listen ?? DEFAULT_LISTEN;
    this.#listen = (typeof listen === 'string' ? [listen] : listen).map(parseListen);
    this.#protocols = new Set(options.protocols ?? DEFAULT_PROTOCOLS);
    const accessLog = options.logs ? this.logger.child({ logger: 'http.log.access', server: this.name }) : undefined;
    this.#dispatch = dispatcher({
      generation: () => this.#gen!,
      fullDuplex: options.enableFullDuplex === true,
      writeTimeout: millis(options.writeTimeout, DEFAULT_DURATIONS.writeTimeout),
      connections: this.#connections,
      observer: new RequestObserver(this.name, accessLog, this.metrics, options.requestMetrics === true),
    });
  }

  /** Aborts when the server begins to stop: long-lived streams (SSE, WebSocket, duplex) end on it. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  /** Requests being handled right now. */
  get activeRequests(): number {
    return this.#inFlight.count;
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
    this.#gen = await provisionGeneration(this.#options, {
      name: this.name,
      registry: this.#registry,
      logger: this.logger,
      metrics: this.metrics,
      kept: this.#kept,
      stopping: this.#stopping,
      owner: this.#inFlight,
    });
  }

  /**
   * What must be equal for a reload to keep this server's listeners: everything but the routes.
   * (A change here — addresses, protocols, TLS material, timeouts — means new listeners.)
   */
  listenerKey(): string {
    return listenerKey(this.name, this.#options, this.#listen, this.#protocols);
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
    fresh.owner = this.#inFlight;
    this.#gen = fresh;
    this.#stopping = fresh.stopping;
    if (!old) return;
    const retire = old.retire(millis(this.#options.gracePeriod, DEFAULT_DURATIONS.gracePeriod));
    this.#retiring.add(retire);
    void retire.finally(() => this.#retiring.delete(retire));
  }

  /** Provisions (if not yet) and starts every listener. Resolves once all are bound. */
  async listen(): Promise<this> {
    await this.provision();
    const ctx = {
      name: this.name,
      options: this.#options,
      protocols: this.#protocols,
      dispatch: this.#dispatch,
      connections: this.#connections,
      logger: this.logger,
    };
    try {
      for (const addr of this.#listen) this.#listeners.push(await bindListener(addr, ctx));
    } catch (err) {
      await this.close({ gracePeriod: 0 });
      throw err;
    }
    return this;
  }

  /**
   * Serves a request another server delivered (toNodeHandler, attachUpgrades) as one of this
   * server's own: same routes, logs, metrics, request count and stop. Provision first.
   */
  [serveForeign](...args: Parameters<Dispatch>): void {
    this.#dispatch(...args);
  }

  /** The bound addresses, in listener order. */
  get addresses(): AddressInfo[] {
    return this.#listeners.map((l) => l.address);
  }

  /** A URL for the first listener (`http://127.0.0.1:PORT`), handy in tests. */
  get url(): string {
    const a = this.addresses[0];
    if (!a) throw new Error('server is not listening');
    const host = a.family === 'IPv6' ? `[${a.address === '::' ? '::1' : a.address}]` : a.address === '0.0.0.0' ? '127.0.0.1' : a.address;
    return `${this.#options.tls ? 'https' : 'http'}://${host}:${a.port}`;
  }

  /**
   * Stops gracefully: stop accepting, let in-flight requests finish within `gracePeriod`, then
   * close what is left (long-lived streams were told through `stopping` at the start), then
   * run every module's cleanup.
   */
  close(options: { gracePeriod?: number | string } = {}): Promise<void> {
    this.#closing ??= this.#close(millis(options.gracePeriod ?? this.#options.gracePeriod, DEFAULT_DURATIONS.gracePeriod));
    return this.#closing;
  }

  async #close(grace: number): Promise<void> {
    this.#stopping.abort();
    this.#connections.closing = true;
    const closed = this.#listeners.map((l) => l.stopAccepting());
    const closeIdle = () => {
      for (const l of this.#listeners) l.closeIdle();
    };
    this.#connections.closeSessions();
    closeIdle();
    const deadline = Date.now() + grace;
    // Keep-alive connections close as soon as their last request is done.
    await this.#inFlight.drained(grace, closeIdle);
    // Taken-over connections (WebSockets, custom protocols) get the rest of the grace period to
    // close themselves — their owners were told through `stopping` (stream_close_delay, 1001).
    await this.#connections.hijackedClosed(deadline);
    for (const l of this.#listeners) l.closeAll();
    this.#connections.destroyAll();
    await Promise.all(closed);
    await Promise.all(this.#retiring);
    await this.#gen?.provisioner.cleanup();
    if (this.#listeners.length > 0) this.logger.info({ server: this.name }, 'stopped');
  }
}

/** The code front door: a server from routes (or one handler), with the same compiler as config. */
export function createServer(options: ServerOptions = {}): FerryServer {
  return new FerryServer(options);
}
