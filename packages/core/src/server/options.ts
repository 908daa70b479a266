import { createHash } from 'node:crypto';
import type { Registry as MetricsRegistry } from 'prom-client';
import { parseDuration } from '../duration.js';
import type { KeptState } from '../kept.js';
import type { ListenAddress } from '../listen.js';
import type { Logger } from '../log.js';
import type { Registry } from '../module.js';
import type { HandlerInput, RouteInput } from '../provision.js';
import type { Services } from '../services.js';
import type { Handler } from '../types.js';

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

/** `ServerOptions.protocols` when unset (and the config's `protocols`). */
export const DEFAULT_PROTOCOLS: readonly HttpProtocolName[] = ['h1', 'h2'];

/** `ServerOptions.listen` when unset. */
export const DEFAULT_LISTEN: readonly string[] = [':8080'];

/**
 * The durations a server falls back to, in milliseconds: declared here once (the config schema
 * documents the same, as `1m`, `5m`). 0 means no limit.
 */
export const DEFAULT_DURATIONS = {
  readTimeout: 0,
  readHeaderTimeout: 60_000,
  writeTimeout: 0,
  idleTimeout: 300_000,
  gracePeriod: 10_000,
} as const;

/** A duration option in milliseconds: a number is one already, a string is a Caddy duration. */
export function millis(v: number | string | undefined, fallback: number): number {
  return v === undefined ? fallback : typeof v === 'number' ? v : parseDuration(v);
}

/**
 * What must be equal for a reload to keep a server's listeners: everything but the routes. (A
 * change here — addresses, protocols, TLS material, timeouts — means new listeners.) An option
 * added to ServerOptions that the listeners or the connections use belongs in this list.
 */
export function listenerKey(
  name: string,
  o: ServerOptions,
  listen: readonly ListenAddress[],
  protocols: ReadonlySet<HttpProtocolName>,
): string {
  const certs = o.tls?.certificates.map((c) => createHash('sha256').update(c.cert).update(c.key).digest('hex'));
  return JSON.stringify([
    name,
    listen.map((l) => l.text),
    [...protocols].sort(),
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

/** The durations the listeners apply, in milliseconds, defaults applied. */
export interface ListenerTimeouts {
  /** A whole HTTP/1.1 request, header and body; 0: no limit. */
  read: number;
  /** A request header; also the silence allowed before a shared port's first bytes. */
  readHeader: number;
  /** An idle keep-alive connection or an h2 session without streams. */
  idle: number;
  /** The TLS handshake: read_header_timeout when set, else undefined (Node's own 120 s). */
  handshake: number | undefined;
}

/** Resolved when a listener is bound, not at construction: a bad duration string given in code fails `listen()`. */
export function listenerTimeouts(o: ServerOptions): ListenerTimeouts {
  return {
    read: millis(o.readTimeout, DEFAULT_DURATIONS.readTimeout),
    readHeader: millis(o.readHeaderTimeout, DEFAULT_DURATIONS.readHeaderTimeout),
    idle: millis(o.idleTimeout, DEFAULT_DURATIONS.idleTimeout),
    handshake: o.readHeaderTimeout === undefined ? undefined : millis(o.readHeaderTimeout, DEFAULT_DURATIONS.readHeaderTimeout),
  };
}
