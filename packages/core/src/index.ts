/**
 * @ferry/core's public surface: what users composing handlers in code and module authors need
 * (docs/getting-started.md, docs/modules.md). What only the `ferry` command and adapters use is in
 * `@ferry/core/internal`, with no promise of stability.
 */

/** The zod Ferry's schemas are made with: module authors import it from here to share one copy. */
export { z } from 'zod';
export { DONE, type Handler, type Middleware, type Matcher, type ResponseWriter, type Protocol } from './types.js';
export { FerryRequest, ClientGoneError, type RequestParams } from './request.js';
export { BODY_DEFAULTS, type BodyOptions, type FormDataOptions } from './body/limits.js';
export { BodyUsedError } from './body/errors.js';
export type { InferOutput, StandardSchemaV1 } from './body/validate.js';
export { CookieError, type ClearCookieOptions, type CookieOptions, type RequestCookies } from './cookies.js';
export { ResponseWriterWrapper } from './writer.js';
export { fromFetch, type FetchHandler } from './interop/from_fetch.js';
export { fromNodeHandler, type NodeHandler } from './interop/from_node_handler.js';
export { attachUpgrades, type NodeHandlerInput, type NodeListener, type NodeNext, toNodeHandler } from './interop/to_node_handler.js';
export { type FetchListener, toFetch } from './interop/to_fetch.js';
export { HeadCallbacks, foldHead, type HeadCallback } from './head.js';
export { HttpError, ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export { parseDuration, duration } from './duration.js';
export type { PlaceholderEdit, Template } from './placeholders.js';
export { sniffContentType } from './sniff.js';
export {
  defineModule,
  moduleFactory,
  isModule,
  Registry,
  type AnyModule,
  type Camelize,
  type FerryModule,
  type ModuleDefinition,
  type ModuleKind,
  type ModuleRef,
  type ValidateResult,
  type ProvisionContext,
  type ServerInfo,
} from './module.js';
export type { HandlerInput, MatcherInput, MatcherSetInput, RouteInput } from './provision.js';
export { createServer, FerryServer } from './server/server.js';
export type { ServerOptions, CertificatePair, HttpProtocolName } from './server/options.js';
export { FerryApp, loadConfig } from './config/app.js';
export { readConfigFile } from './config/file.js';
export type { LoadOptions } from './config/load.js';
export type { FerryConfig } from './config/schema.js';
export { createLogger, silentLogger, type Logger } from './log.js';
export { coreModules, defaultRegistry, registerModule } from './standard.js';

// Handlers and matchers, as code factories and as modules.
export { staticResponse, staticResponseModule } from './handlers/static_response.js';
export { headers, headersModule } from './handlers/headers.js';
export { subroute, subrouteModule } from './handlers/subroute.js';
export { error, errorModule } from './handlers/error.js';
export { vars, varsModule } from './handlers/vars.js';
export { metrics, metricsModule } from './handlers/metrics.js';
export { requestBody, requestBodyModule } from './handlers/request_body.js';
export { rewrite, rewriteModule } from './handlers/rewrite.js';
export { cors, corsModule, type OriginCheck } from './handlers/cors.js';
export { path, pathMatcher } from './match/path.js';
export { pathRegexp, pathRegexpMatcher } from './match/path_regexp.js';
export { pattern, patternMatcher } from './match/pattern.js';
export { urlPattern, urlPatternMatcher } from './match/url_pattern_matcher.js';
export { route, type PatternParams, type RouteHandler, type TypedRequest } from './typed_route.js';
export { method, methodMatcher } from './match/method.js';
export { host, hostMatcher } from './match/host.js';
export { header, headerMatcher, headerRegexp, headerRegexpMatcher } from './match/header.js';
export { query, queryMatcher } from './match/query.js';
export { protocol, protocolMatcher } from './match/protocol.js';
export { remoteIp, remoteIpMatcher } from './match/remote_ip.js';
export { not, notMatcher } from './match/not.js';
export { compileResponseMatcher, responseMatcherSchema, type ResponseMatcher, type ResponseMatcherConfig } from './response_match.js';
export {
  compileHeaderOps,
  headerOpsSchema,
  recordTarget,
  writerTarget,
  type HeaderOps,
  type HeaderOpsConfig,
  type HeaderTarget,
} from './header_ops.js';
export { KeptState } from './kept.js';
export { LabelLimit, methodLabel } from './label_limit.js';
export { ConfigRegexp, compileRegexp, type RegexpMatch } from './regexp.js';
export type { ClusterMetrics, FerryServices, MetricsSnapshot, Services } from './services.js';
