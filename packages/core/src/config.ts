import { z } from 'zod';
import type { Logger } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { KeptState } from './kept.js';
import type { Services } from './services.js';
import { duration } from './duration.js';
import { ConfigError, joinPath, type ConfigIssue } from './errors.js';
import { internalCertificate } from './internal_ca.js';
import { parseListen } from './listen.js';
import { createLogger } from './log.js';
import type { Registry } from './module.js';
import { prototypeKeyIssues } from './prototype-keys.js';
import { FileReadError, readFileBounded } from './read-file.js';
import { zodIssues, type RouteInput } from './provision.js';
import { DEFAULT_MAX_CONCURRENT_STREAMS, type CertificatePair, type HttpProtocolName } from './server/options.js';
import { FerryServer } from './server/server.js';
import { defaultRegistry } from './standard.js';

const listenAddress = z.string().superRefine((v, ctx) => {
  try {
    parseListen(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const routeList = () => z.array(z.unknown().meta({ title: 'route' }));

/** A server's options. The defaults stated here are applied by FerryServer (server.ts) and loadConfig. */
export const serverSchema = z.strictObject({
  listen: z
    .array(listenAddress)
    .min(1)
    .describe(
      'Addresses to listen on: `":8080"` (every interface), `"127.0.0.1:8443"`, `"[::1]:80"`; port 0 picks a free port. No port ranges.',
    ),
  protocols: z
    .array(z.string())
    .min(1)
    .optional()
    .meta({
      description:
        'HTTP versions to serve: `h1`, `h2` (only with TLS), `h2c` (cleartext HTTP/2 by prior knowledge). `h3` is not supported.',
      default: ['h1', 'h2'],
    }),
  routes: routeList().optional().meta({
    description: 'The routes every request runs through, in order; a request none answers gets an empty 200 (as in Caddy).',
    default: [],
  }),
  errors: z
    .strictObject({ routes: routeList().describe('Error routes, with `{http.error.status_code}` and `{http.error.message}`.') })
    .optional()
    .describe(
      "Handles errors raised by `routes`; unanswered, the error's status is sent with an empty body. Unset: the status and a short plain-text body.",
    ),
  read_timeout: duration().optional().meta({
    description: 'How long an HTTP/1.1 client may take to send a whole request, header and body; 0 means no limit.',
    default: '0s',
  }),
  read_header_timeout: duration().optional().meta({
    description: 'How long a client may take to send the request header (HTTP/1.1); when set, it bounds the TLS handshake too (else 2m).',
    default: '1m',
  }),
  write_timeout: duration().optional().meta({
    description:
      'How long a response may take, from the request header read to its last byte written; an unfinished one is aborted. 0 means no limit.',
    default: '0s',
  }),
  idle_timeout: duration().optional().meta({
    description: 'How long an idle keep-alive connection (HTTP/1.1) or a session without streams (HTTP/2) is kept open.',
    default: '5m',
  }),
  max_header_bytes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "Largest request header accepted, in bytes (HTTP/1.1 header size, HTTP/2 header list size). Unset: Node's limits (16 KiB for HTTP/1.1).",
    ),
  max_concurrent_streams: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .optional()
    .meta({
      description:
        'Most streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Ferry only: Caddy has it fixed at 250. Without a bound one connection opens thousands of streams, each holding memory and an upstream connection.',
      default: DEFAULT_MAX_CONCURRENT_STREAMS,
    }),
  enable_full_duplex: z.boolean().optional().meta({
    description: 'Let handlers write the response while an HTTP/1.1 request body is still arriving (HTTP/2 always can).',
    default: false,
  }),
  logs: z
    .strictObject({})
    .optional()
    .describe(
      "Present (`{}`): an access log line per request (logger `http.log.access`). Caddy's logger-name mapping is not supported: its fields are errors.",
    ),
  tls_connection_policies: z
    .array(
      z.strictObject({
        certificate_selection: z
          .strictObject({
            any_tag: z
              .array(z.string())
              .min(1)
              .describe('Tags (from `apps.tls.certificates`) a certificate must have one of; the tags of all policies count together.'),
          })
          .optional()
          .describe('Which loaded certificates to serve. Unset: every loaded certificate.'),
      }),
    )
    .optional()
    .describe('Serve HTTPS (certificates chosen by SNI). Unset: plain HTTP.'),
  automatic_https: z
    .strictObject({
      disable: z.boolean().optional().meta({
        description: 'Silences the warning that Caddy would serve this server with automatic HTTPS (Ferry obtains no certificates).',
        default: false,
      }),
      disable_redirects: z.boolean().optional().describe('Accepted for Caddy configs; no effect: Ferry adds no HTTP-to-HTTPS redirects.'),
      disable_certificates: z.boolean().optional().describe('Accepted for Caddy configs; no effect: Ferry obtains no certificates.'),
      skip: z.array(z.string()).optional().describe('Accepted for Caddy configs; no effect.'),
      skip_certificates: z.array(z.string()).optional().describe('Accepted for Caddy configs; no effect.'),
    })
    .optional()
    .describe("Caddy's automatic HTTPS settings: Ferry has no automatic HTTPS; only `disable` matters."),
});

const certFile = z.strictObject({
  certificate: z.string().min(1),
  key: z.string().min(1),
  format: z.literal('pem').optional(),
  tags: z.array(z.string()).optional(),
});

const certPem = z.strictObject({ certificate: z.string().min(1), key: z.string().min(1), tags: z.array(z.string()).optional() });

/** The Caddy JSON subset Ferry understands (handlers and matchers are checked by their modules). */
export const configSchema = z.strictObject({
  admin: z
    .strictObject({
      disabled: z.boolean().optional().describe('Turn the admin API off (`ferry run` serves it otherwise).'),
      listen: listenAddress.optional().meta({ description: 'Where the admin API listens.', default: 'localhost:2019' }),
      enforce_origin: z.boolean().optional().describe('Require an allowed Origin header on every admin request.'),
      origins: z
        .array(z.string())
        .optional()
        .describe('Origins allowed besides the admin address itself (`host:port` or `scheme://host:port`).'),
    })
    .optional()
    .describe('The admin API: /load, /config/[path], /stop, with zero-downtime reloads.'),
  apps: z
    .strictObject({
      http: z
        .strictObject({
          http_port: z.number().int().min(1).max(65535).optional(),
          grace_period: duration().optional(),
          /** Per-request metrics for the metrics handler. */
          metrics: z.strictObject({}).optional(),
          // Each server is checked on its own (below), so one bad field does not hide the routes' problems.
          servers: z.record(z.string(), z.unknown()),
        })
        .optional(),
      tls: z
        .strictObject({
          certificates: z.strictObject({ load_files: z.array(certFile).optional(), load_pem: z.array(certPem).optional() }).optional(),
          /** Only Caddy's internal issuer: a self-signed certificate, made and cached locally. */
          automation: z
            .strictObject({
              policies: z
                .array(
                  z.strictObject({
                    subjects: z.array(z.string().min(1)).min(1),
                    issuers: z
                      .array(
                        z.strictObject({
                          module: z.string().refine((m) => m === 'internal', {
                            message: 'only the "internal" issuer is supported: Ferry obtains no certificates from ACME',
                          }),
                        }),
                      )
                      .min(1),
                  }),
                )
                .min(1),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

export type FerryConfig = z.input<typeof configSchema>;

const PROTOCOLS = new Set<HttpProtocolName>(['h1', 'h2', 'h2c']);

/**
 * A config file is read whole; past this it is not a config (`--config /dev/zero` would read
 * forever). The admin API's default body limit is the same.
 */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Reads and parses a config file; a missing file or invalid JSON is one clear ConfigError line. */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    // Pipes are fine (`--config <(jq …)`): only the CLI reads this, and it waits as `cat` would.
    text = (await readFileBounded(file, { maxBytes: MAX_CONFIG_BYTES, tooLarge: 'larger than 16 MiB', regularOnly: false })).toString(
      'utf8',
    );
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${err.reason}` }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '', message: `config file ${file} is not valid JSON: ${(err as Error).message}` }]);
  }
}

/** The servers of a config, started and stopped together. */
export class FerryApp {
  #servers: FerryServer[];
  #warnings: readonly ConfigIssue[];
  #gracePeriod: number | undefined;
  #config: unknown;
  #reloading: Promise<void> = Promise.resolve();

  constructor(
    servers: readonly FerryServer[],
    warnings: readonly ConfigIssue[],
    gracePeriod: number | undefined,
    /** The config this app runs (as given: JSON), and how it was loaded — reloads reuse both. */
    config: unknown = undefined,
    readonly options: LoadOptions = {},
  ) {
    this.#servers = [...servers];
    this.#warnings = warnings;
    this.#gracePeriod = gracePeriod;
    this.#config = config;
  }

  get servers(): readonly FerryServer[] {
    return this.#servers;
  }

  get warnings(): readonly ConfigIssue[] {
    return this.#warnings;
  }

  get gracePeriod(): number | undefined {
    return this.#gracePeriod;
  }

  /** The running config (a copy). */
  get config(): unknown {
    return structuredClone(this.#config);
  }

  /** Starts every server; if one cannot listen, the others are stopped and the error is thrown. */
  async start(): Promise<void> {
    try {
      for (const s of this.#servers) await s.listen();
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  async stop(gracePeriod = this.#gracePeriod): Promise<void> {
    await Promise.all(this.#servers.map((s) => s.close(gracePeriod === undefined ? {} : { gracePeriod })));
  }

  server(name: string): FerryServer | undefined {
    return this.#servers.find((s) => s.name === name);
  }

  /**
   * Replaces the running config without dropping a request (Caddy's config load). The new config
   * is validated and provisioned beside the old one first: a bad one throws its ConfigError and the
   * old one keeps serving, untouched. Servers whose listeners stay the same keep them (no accept
   * gap) and switch to the new routes — in-flight requests finish on the old ones, whose modules
   * are cleaned up once those drain. Servers whose listeners change are stopped gracefully and
   * started anew; servers no longer in the config stop. Loads are applied one at a time.
   */
  reload(json: unknown): Promise<void> {
    const run = this.#reloading.then(() => this.#reload(json));
    this.#reloading = run.catch(() => {});
    return run;
  }

  async #reload(json: unknown): Promise<void> {
    const next = await loadConfig(json, this.options);
    const byKey = new Map<string, FerryServer>();
    for (const s of this.#servers) byKey.set(s.listenerKey(), s);
    const kept: FerryServer[] = [];
    const fresh: FerryServer[] = [];
    for (const n of next.servers) {
      const old = byKey.get(n.listenerKey());
      if (old) {
        byKey.delete(n.listenerKey());
        old.adopt(n);
        kept.push(old);
      } else fresh.push(n);
    }
    // What is left changed its listeners or is gone: stop it first, so its ports are free.
    await Promise.all([...byKey.values()].map((s) => s.close(next.gracePeriod === undefined ? {} : { gracePeriod: next.gracePeriod })));
    this.#servers = [...kept];
    try {
      for (const n of fresh) {
        await n.listen();
        this.#servers.push(n);
      }
    } catch (err) {
      // A new listener failed (a port in use, say): undo — stop what started, clean up the rest,
      // and go back to the previous config (which switches kept servers back and restarts the
      // ones closed above), then report the failure.
      await Promise.all(fresh.map((n) => n.close({ gracePeriod: 0 })));
      this.#servers = [...kept];
      try {
        await this.#reload(this.#config);
      } catch (again) {
        this.options.logger?.error({ err: again }, 'could not restore the previous config after a failed reload');
      }
      throw err;
    }
    this.#warnings = next.warnings;
    this.#gracePeriod = next.gracePeriod;
    this.#config = structuredClone(json);
  }
}

export interface LoadOptions {
  registry?: Registry;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** What modules keep across reloads (`ctx.keep`); a FerryApp passes its own to every reload. */
  kept?: KeptState;
  /** What the host provides to modules (`ctx.service(name)`), in this config and every reload. */
  services?: Services;
}

function hasHostMatcher(routes: unknown[] | undefined): boolean {
  return (routes ?? []).some((r) => {
    const match = (r as { match?: unknown })?.match;
    return Array.isArray(match) && match.some((set) => typeof set === 'object' && set !== null && Object.hasOwn(set, 'host'));
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v[key]` when `v` is an object that has it as its own: a config walk never reads a prototype's. */
const own = (v: unknown, key: string): unknown => (isObject(v) && Object.hasOwn(v, key) ? v[key] : undefined);

/**
 * A bad field outside the servers (an unknown top-level key, a typo in `admin`) must not hide
 * the problems inside them: every problem is reported at once. The servers are checked on
 * their own — with the TLS certificates when that part is sound — and their issues added.
 */
async function withServerIssues(issues: ConfigIssue[], json: unknown, options: LoadOptions): Promise<ConfigIssue[]> {
  const apps = own(json, 'apps');
  const servers = own(own(apps, 'http'), 'servers');
  if (!isObject(servers) || issues.some((i) => i.path.startsWith('apps.http.servers'))) return issues;
  const tls = own(apps, 'tls');
  const tlsSound = tls !== undefined && !issues.some((i) => i.path.startsWith('apps.tls'));
  try {
    const app = await loadConfig({ apps: { http: { servers }, ...(tlsSound ? { tls } : {}) } }, options);
    await app.stop(0);
    return issues;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Without sound TLS settings no certificate is loaded: that is not a problem of the servers.
    const own = tlsSound ? err.issues : err.issues.filter((i) => !i.path.endsWith('.tls_connection_policies'));
    return [...issues, ...own];
  }
}

/** PEM certificates and keys, even long chains, are a few KiB: past this it is the wrong file. */
const MAX_PEM_BYTES = 1024 * 1024;

/** Reads one file of a `load_files` entry at `at`, or adds an issue at its path naming it and what is wrong. */
async function readPem(
  entry: { certificate: string; key: string },
  field: 'certificate' | 'key',
  at: string,
  issues: ConfigIssue[],
): Promise<Buffer | undefined> {
  const file = entry[field];
  try {
    // Regular files only: a FIFO would hold the load, and with it the admin API's change queue (#13).
    return await readFileBounded(file, {
      maxBytes: MAX_PEM_BYTES,
      tooLarge: 'larger than 1 MiB (it is not a PEM certificate or key)',
      regularOnly: true,
    });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    issues.push({ path: joinPath(at, field), message: `cannot read ${field} file ${file}: ${err.reason}` });
    return undefined;
  }
}

/** `:8080`, `0.0.0.0:8080` and `[::]:8080` take the port on every address: they clash with any other listener on it. */
const allInterfaces = (host: string | undefined) => host === undefined || host === '0.0.0.0' || host === '::';

/**
 * Validates a config and provisions every module in it. Nothing listens yet; every problem,
 * with its JSON path, comes back as one ConfigError.
 */
export async function loadConfig(json: unknown, options: LoadOptions = {}): Promise<FerryApp> {
  // Before anything reads or copies the JSON: such keys are dropped or followed by the schema.
  const protoKeys = prototypeKeyIssues(json);
  if (protoKeys.length > 0) throw new ConfigError(protoKeys);
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(await withServerIssues(zodIssues(parsed.error, ''), json, options));
  const cfg = parsed.data;
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const registry = options.registry ?? defaultRegistry;
  const logger = options.logger ?? createLogger();
  const metrics = options.metrics ?? new MetricsRegistry();
  const kept = options.kept ?? new KeptState();

  // Certificates, by tag.
  const certs: (CertificatePair & { tags: string[] })[] = [];
  const certCfg = cfg.apps?.tls?.certificates;
  for (const [i, f] of (certCfg?.load_files ?? []).entries()) {
    const at = joinPath('apps.tls.certificates.load_files', i);
    const cert = await readPem(f, 'certificate', at, issues);
    const key = await readPem(f, 'key', at, issues);
    if (cert && key) certs.push({ cert, key, tags: f.tags ?? [] });
  }
  for (const p of certCfg?.load_pem ?? []) certs.push({ cert: p.certificate, key: p.key, tags: p.tags ?? [] });
  for (const [i, policy] of (cfg.apps?.tls?.automation?.policies ?? []).entries()) {
    try {
      const { cert, key } = await internalCertificate(policy.subjects);
      certs.push({ cert, key, tags: [] });
    } catch (err) {
      issues.push({
        path: joinPath('apps.tls.automation.policies', i),
        message: `cannot make an internal certificate: ${(err as Error).message}`,
      });
    }
  }

  const http = cfg.apps?.http;
  const httpPort = http?.http_port ?? 80;
  const seen: { host: string | undefined; port: number; path: string }[] = [];
  const servers: FerryServer[] = [];
  for (const [name, rawServer] of Object.entries(http?.servers ?? {})) {
    const base = joinPath('apps.http.servers', name);
    const checked = serverSchema.safeParse(rawServer);
    if (!checked.success) {
      issues.push(...zodIssues(checked.error, base));
      // Still compile the routes, to report their problems too.
      const rawRoutes = own(rawServer, 'routes');
      const rawErrRoutes = own(own(rawServer, 'errors'), 'routes');
      const routes = Array.isArray(rawRoutes) ? (rawRoutes as RouteInput[]) : [];
      const errRoutes = Array.isArray(rawErrRoutes) ? (rawErrRoutes as RouteInput[]) : undefined;
      servers.push(
        new FerryServer({
          name,
          configPath: base,
          listen: [],
          routes,
          ...(errRoutes ? { errors: { routes: errRoutes } } : {}),
          logger,
          registry,
          metrics,
        }),
      );
      continue;
    }
    const s = checked.data;
    const protocols: HttpProtocolName[] = [];
    for (const [i, p] of (s.protocols ?? ['h1', 'h2']).entries()) {
      if (PROTOCOLS.has(p as HttpProtocolName)) protocols.push(p as HttpProtocolName);
      else
        issues.push({
          path: joinPath(base, 'protocols', i),
          message: p === 'h3' ? 'HTTP/3 (h3) is not supported by Ferry' : `unknown protocol "${p}" (expected h1, h2 or h2c)`,
        });
    }
    for (const [i, l] of s.listen.entries()) {
      const a = parseListen(l);
      const at = joinPath(base, 'listen', i);
      const other = seen.find((o) => o.port === a.port && (o.host === a.host || allInterfaces(o.host) || allInterfaces(a.host)));
      if (a.port !== 0 && other) issues.push({ path: at, message: `"${l}" is already used by ${other.path}` });
      seen.push({ host: a.host, port: a.port, path: at });
    }
    let tls: { certificates: CertificatePair[] } | undefined;
    if (s.tls_connection_policies) {
      const tags = s.tls_connection_policies.flatMap((p) => p.certificate_selection?.any_tag ?? []);
      const chosen = tags.length ? certs.filter((c) => c.tags.some((t) => tags.includes(t))) : certs;
      if (chosen.length === 0) {
        issues.push({
          path: joinPath(base, 'tls_connection_policies'),
          message: 'TLS is on but no certificate is loaded (Ferry obtains none: load them with apps.tls.certificates.load_files)',
        });
      }
      tls = { certificates: chosen };
    } else if (s.automatic_https?.disable !== true && hasHostMatcher(s.routes)) {
      if (s.listen.some((l) => parseListen(l).port !== httpPort)) {
        warnings.push({
          path: base,
          message:
            'Caddy would serve this server with automatic HTTPS; Ferry obtains no certificates and serves it as plain HTTP (set automatic_https.disable to silence this)',
        });
      }
    }
    if (!s.tls_connection_policies && protocols.length > 0 && !protocols.includes('h1') && !protocols.includes('h2c')) {
      // h2 needs TLS (ALPN); without it nothing listed could be served.
      issues.push({
        path: joinPath(base, 'protocols'),
        message: 'h2 needs TLS (tls_connection_policies); for cleartext HTTP/2 list "h2c"',
      });
    }
    servers.push(
      new FerryServer({
        name,
        configPath: base,
        listen: s.listen,
        protocols,
        routes: (s.routes ?? []) as RouteInput[],
        ...(s.errors ? { errors: { routes: s.errors.routes as RouteInput[] } } : {}),
        ...(tls ? { tls } : {}),
        readTimeout: s.read_timeout,
        readHeaderTimeout: s.read_header_timeout,
        writeTimeout: s.write_timeout,
        idleTimeout: s.idle_timeout,
        maxHeaderBytes: s.max_header_bytes,
        maxConcurrentStreams: s.max_concurrent_streams,
        enableFullDuplex: s.enable_full_duplex,
        logs: s.logs !== undefined,
        logger,
        registry,
        metrics,
        kept,
        services: options.services,
        requestMetrics: http?.metrics !== undefined,
        gracePeriod: http?.grace_period,
      }),
    );
  }
  for (const s of servers) {
    try {
      await s.provision();
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
    warnings.push(...s.warnings);
  }
  if (issues.length > 0) {
    await Promise.all(servers.map((s) => s.close({ gracePeriod: 0 })));
    throw new ConfigError(issues);
  }
  return new FerryApp(servers, warnings, http?.grace_period, structuredClone(json), {
    registry,
    logger,
    metrics,
    kept,
    services: options.services,
  });
}
