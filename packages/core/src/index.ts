/** The zod Ferry's schemas are made with: module authors import it from here to share one copy. */
export { z } from 'zod';
export { DONE, type Handler, type Middleware, type Matcher, type ResponseWriter, type Protocol } from './types.js';
export { FerryRequest, ClientGoneError } from './request.js';
export { Http1Writer, Http2Writer, ResponseWriterWrapper } from './writer.js';
export { HttpError, ConfigError, formatIssue, joinPath, type ConfigIssue } from './errors.js';
export { parseDuration, duration } from './duration.js';
export { compileTemplate, resolvePlaceholder, isKnownPlaceholder, type Template } from './placeholders.js';
export { sniffContentType } from './sniff.js';
export { compose, chainRoutes } from './route.js';
export {
  defineModule,
  moduleFactory,
  isModule,
  isModuleRef,
  Registry,
  snakeize,
  type AnyModule,
  type Camelize,
  type FerryModule,
  type ModuleDefinition,
  type ModuleKind,
  type ModuleRef,
  type ProvisionContext,
  type ServerInfo,
} from './module.js';
export { Provisioner, zodIssues, type HandlerInput, type MatcherInput, type MatcherSetInput, type RouteInput } from './provision.js';
export { createServer, FerryServer } from './server/server.js';
export { writeErrorResponse } from './server/respond.js';
export type { ServerOptions, CertificatePair, HttpProtocolName } from './server/options.js';
export { FerryApp, loadConfig } from './config/app.js';
export { readConfigFile } from './config/file.js';
export type { LoadOptions } from './config/load.js';
export { configSchema, serverSchema, type FerryConfig } from './config/schema.js';
export { createLogger, silentLogger, type Logger } from './log.js';
export { parseListen, type ListenAddress } from './listen.js';
export { coreModules, standardRegistry, defaultRegistry, registerModule } from './standard.js';

// Handlers and matchers, as code factories and as modules.
export { staticResponse, staticResponseModule } from './handlers/static_response.js';
export { headers, headersModule } from './handlers/headers.js';
export { subroute, subrouteModule } from './handlers/subroute.js';
export { error, errorModule } from './handlers/error.js';
export { vars, varsModule } from './handlers/vars.js';
export { metrics, metricsModule } from './handlers/metrics.js';
export { path, pathMatcher } from './match/path.js';
export { pathRegexp, pathRegexpMatcher } from './match/path_regexp.js';
export { method, methodMatcher } from './match/method.js';
export { host, hostMatcher } from './match/host.js';
export { header, headerMatcher, headerRegexp, headerRegexpMatcher } from './match/header.js';
export { query, queryMatcher } from './match/query.js';
export { protocol, protocolMatcher } from './match/protocol.js';
export { remoteIp, remoteIpMatcher } from './match/remote_ip.js';
export { not, notMatcher } from './match/not.js';
export {
  compileResponseMatcher,
  responseMatcherSchema,
  statusMatches,
  valuePattern,
  type ResponseMatcher,
  type ResponseMatcherConfig,
} from './response_match.js';
export {
  compileHeaderOps,
  headerOpsSchema,
  headerOpsShape,
  recordTarget,
  writerTarget,
  type HeaderOps,
  type HeaderOpsConfig,
  type HeaderTarget,
} from './header_ops.js';
export { internalCertificate, certificateCacheDir } from './internal_ca.js';
export { KeptState } from './kept.js';
export { LabelLimit, methodLabel } from './label_limit.js';
export { ConfigRegexp, compileRegexp, type RegexpMatch } from './regexp.js';
export { AdminServer, adminOptionsOf, changeConfig, type AdminOptions, type AdminTarget } from './admin.js';
export type { ClusterMetrics, FerryServices, MetricsSnapshot, Services } from './services.js';
