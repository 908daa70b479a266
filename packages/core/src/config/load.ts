import type { Logger } from 'pino';
import { Registry as MetricsRegistry } from 'prom-client';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { KeptState } from '../kept.js';
import { createLogger } from '../log.js';
import type { Registry } from '../module.js';
import { prototypeKeyIssues } from '../prototype-keys.js';
import { zodIssues } from '../provision.js';
import { FerryServer } from '../server/server.js';
import type { Services } from '../services.js';
import { defaultRegistry } from '../standard.js';
import { isObject, own } from './own.js';
import { configSchema } from './schema.js';
import { type CommonServerOptions, serverOptionsOf } from './servers.js';
import { loadCertificates } from './tls.js';

export interface LoadOptions {
  registry?: Registry;
  logger?: Logger;
  metrics?: MetricsRegistry;
  /** What modules keep across reloads (`ctx.keep`); a FerryApp passes its own to every reload. */
  kept?: KeptState;
  /** What the host provides to modules (`ctx.service(name)`), in this config and every reload. */
  services?: Services;
}

/** LoadOptions with the defaults made: a reload gets these, so it shares the logger, the metrics and what is kept. */
export type ResolvedLoadOptions = Required<Omit<LoadOptions, 'services'>> & Pick<LoadOptions, 'services'>;

/** A config's servers, provisioned (nothing listens yet), and what the config says about them all. */
export interface LoadedServers {
  servers: FerryServer[];
  warnings: ConfigIssue[];
  /** `apps.http.grace_period`, as written. */
  gracePeriod: number | undefined;
  options: ResolvedLoadOptions;
}

/**
 * Validates a config and provisions every module in it, in steps: the JSON and its schema, the
 * TLS material, each server's options, then every server's routes. Nothing listens yet; every
 * problem, with its JSON path, comes back as one ConfigError.
 */
export async function loadServers(json: unknown, options: LoadOptions = {}): Promise<LoadedServers> {
  const cfg = await validate(json, options);
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const resolved: ResolvedLoadOptions = {
    registry: options.registry ?? defaultRegistry,
    logger: options.logger ?? createLogger(),
    metrics: options.metrics ?? new MetricsRegistry(),
    kept: options.kept ?? new KeptState(),
    services: options.services,
  };
  const certs = await loadCertificates(cfg.apps?.tls, issues);
  const http = cfg.apps?.http;
  const common: CommonServerOptions = {
    ...resolved,
    requestMetrics: http?.metrics !== undefined,
    gracePeriod: http?.grace_period,
  };
  const servers = serverOptionsOf(http?.servers ?? {}, { common, certs, httpPort: http?.http_port ?? 80, issues, warnings }).map(
    (o) => new FerryServer(o),
  );
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
  return { servers, warnings, gracePeriod: http?.grace_period, options: resolved };
}

/** The config, parsed by its schema; its problems (and its servers', see withServerIssues) thrown as one ConfigError. */
async function validate(json: unknown, options: LoadOptions) {
  // Before anything reads or copies the JSON: such keys are dropped or followed by the schema.
  const protoKeys = prototypeKeyIssues(json);
  if (protoKeys.length > 0) throw new ConfigError(protoKeys);
  const parsed = configSchema.safeParse(json);
  if (!parsed.success)
    throw new ConfigError(await withServerIssues(zodIssues(parsed.error, '', { schema: configSchema, scope: 'config' }), json, options));
  return parsed.data;
}

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
    const loaded = await loadServers({ apps: { http: { servers }, ...(tlsSound ? { tls } : {}) } }, options);
    await Promise.all(loaded.servers.map((s) => s.close({ gracePeriod: 0 })));
    return issues;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Without sound TLS settings no certificate is loaded: that is not a problem of the servers.
    const serverIssues = tlsSound ? err.issues : err.issues.filter((i) => !i.path.endsWith('.tls_connection_policies'));
    return [...issues, ...serverIssues];
  }
}
