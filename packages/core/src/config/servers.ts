import type { z } from 'zod';
import { type ConfigIssue, joinPath } from '../errors.js';
import { parseListen } from '../listen.js';
import { type RouteInput, zodIssues } from '../provision.js';
import { type CertificatePair, DEFAULT_PROTOCOLS, type HttpProtocolName, type ServerOptions } from '../server/options.js';
import { own } from './own.js';
import { serverSchema } from './schema.js';
import { chooseCertificates, type TaggedCertificate } from './tls.js';

type ServerConfig = z.output<typeof serverSchema>;

/** The options every server of one config gets alike. */
export type CommonServerOptions = Required<Pick<ServerOptions, 'logger' | 'registry' | 'metrics' | 'kept'>> &
  Pick<ServerOptions, 'services' | 'requestMetrics' | 'gracePeriod'>;

/** What turning a config's servers into options reads and reports into. */
export interface ServersContext {
  readonly common: CommonServerOptions;
  /** Every certificate of `apps.tls`, for the servers' TLS policies to choose from. */
  readonly certs: readonly TaggedCertificate[];
  /** `apps.http.http_port`: the port Caddy would leave as plain HTTP. */
  readonly httpPort: number;
  readonly issues: ConfigIssue[];
  readonly warnings: ConfigIssue[];
}

/** A listener claimed by a server of the config, to find two on one port. */
interface ClaimedAddress {
  host: string | undefined;
  port: number;
  path: string;
}

const PROTOCOLS = new Set<HttpProtocolName>(['h1', 'h2', 'h2c']);

/**
 * The options of every server in `apps.http.servers`, by name. What the schema cannot see — an
 * unknown protocol, two servers on one port, TLS without a certificate, h2 without TLS — is an
 * issue at its JSON path; a server the schema rejects still gets its routes compiled, so their
 * problems are reported too.
 */
export function serverOptionsOf(servers: Record<string, unknown>, ctx: ServersContext): ServerOptions[] {
  const claimed: ClaimedAddress[] = [];
  return Object.entries(servers).map(([name, raw]) => serverOptions(name, raw, claimed, ctx));
}

function serverOptions(name: string, raw: unknown, claimed: ClaimedAddress[], ctx: ServersContext): ServerOptions {
  const base = joinPath('apps.http.servers', name);
  const checked = serverSchema.safeParse(raw);
  if (!checked.success) {
    ctx.issues.push(...zodIssues(checked.error, base, { schema: serverSchema, scope: 'server' }));
    return routesOnly(name, base, raw, ctx.common);
  }
  const s = checked.data;
  const protocols = knownProtocols(s.protocols ?? DEFAULT_PROTOCOLS, base, ctx.issues);
  claimListeners(s.listen, base, claimed, ctx.issues);
  let tls: { certificates: CertificatePair[] } | undefined;
  if (s.tls_connection_policies) tls = { certificates: certificatesOf(s.tls_connection_policies, base, ctx) };
  else warnAutomaticHttps(s, base, ctx);
  if (!s.tls_connection_policies && protocols.length > 0 && !protocols.includes('h1') && !protocols.includes('h2c')) {
    // h2 needs TLS (ALPN); without it nothing listed could be served.
    ctx.issues.push({
      path: joinPath(base, 'protocols'),
      message: 'h2 needs TLS (tls_connection_policies); for cleartext HTTP/2 list "h2c"',
    });
  }
  return {
    ...ctx.common,
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
  };
}

/**
 * A server the schema rejected: never started, only provisioned, so the problems of its routes
 * (those that are a list) are reported beside the schema's.
 */
function routesOnly(name: string, base: string, raw: unknown, common: CommonServerOptions): ServerOptions {
  const rawRoutes = own(raw, 'routes');
  const rawErrRoutes = own(own(raw, 'errors'), 'routes');
  const routes = Array.isArray(rawRoutes) ? (rawRoutes as RouteInput[]) : [];
  const errRoutes = Array.isArray(rawErrRoutes) ? (rawErrRoutes as RouteInput[]) : undefined;
  return {
    name,
    configPath: base,
    listen: [],
    routes,
    ...(errRoutes ? { errors: { routes: errRoutes } } : {}),
    logger: common.logger,
    registry: common.registry,
    metrics: common.metrics,
  };
}

/** The protocols Ferry serves, in order; any other is an issue at its index. */
function knownProtocols(listed: readonly string[], base: string, issues: ConfigIssue[]): HttpProtocolName[] {
  const protocols: HttpProtocolName[] = [];
  for (const [i, p] of listed.entries()) {
    if (PROTOCOLS.has(p as HttpProtocolName)) protocols.push(p as HttpProtocolName);
    else
      issues.push({
        path: joinPath(base, 'protocols', i),
        message: p === 'h3' ? 'HTTP/3 (h3) is not supported by Ferry' : `unknown protocol "${p}" (expected h1, h2 or h2c)`,
      });
  }
  return protocols;
}

/** `:8080`, `0.0.0.0:8080` and `[::]:8080` take the port on every address: they clash with any other listener on it. */
const allInterfaces = (host: string | undefined) => host === undefined || host === '0.0.0.0' || host === '::';

/** Claims a server's addresses; one another server (or this one) already claimed is an issue naming both. */
function claimListeners(listen: readonly string[], base: string, claimed: ClaimedAddress[], issues: ConfigIssue[]): void {
  for (const [i, l] of listen.entries()) {
    const a = parseListen(l);
    const at = joinPath(base, 'listen', i);
    const other = claimed.find((o) => o.port === a.port && (o.host === a.host || allInterfaces(o.host) || allInterfaces(a.host)));
    if (a.port !== 0 && other) issues.push({ path: at, message: `"${l}" is already used by ${other.path}` });
    claimed.push({ host: a.host, port: a.port, path: at });
  }
}

/** The certificates a server's TLS policies choose; none is an issue (Ferry obtains none itself). */
function certificatesOf(
  policies: NonNullable<ServerConfig['tls_connection_policies']>,
  base: string,
  ctx: ServersContext,
): TaggedCertificate[] {
  const chosen = chooseCertificates(policies, ctx.certs);
  if (chosen.length === 0) {
    ctx.issues.push({
      path: joinPath(base, 'tls_connection_policies'),
      message: 'TLS is on but no certificate is loaded (Ferry obtains none: load them with apps.tls.certificates.load_files)',
    });
  }
  return chosen;
}

/** A plain-HTTP server that Caddy would serve over HTTPS (a host matcher, off the HTTP port) gets a warning. */
function warnAutomaticHttps(s: ServerConfig, base: string, ctx: ServersContext): void {
  if (s.automatic_https?.disable === true || !hasHostMatcher(s.routes)) return;
  if (s.listen.some((l) => parseListen(l).port !== ctx.httpPort)) {
    ctx.warnings.push({
      path: base,
      message:
        'Caddy would serve this server with automatic HTTPS; Ferry obtains no certificates and serves it as plain HTTP (set automatic_https.disable to silence this)',
    });
  }
}

function hasHostMatcher(routes: unknown[] | undefined): boolean {
  return (routes ?? []).some((r) => {
    const match = (r as { match?: unknown })?.match;
    return Array.isArray(match) && match.some((set) => typeof set === 'object' && set !== null && Object.hasOwn(set, 'host'));
  });
}
