import { corsModule } from './handlers/cors.js';
import { errorModule } from './handlers/error.js';
import { headersModule } from './handlers/headers.js';
import { metricsModule } from './handlers/metrics.js';
import { requestBodyModule } from './handlers/request_body.js';
import { rewriteModule } from './handlers/rewrite.js';
import { staticResponseModule } from './handlers/static_response.js';
import { subrouteModule } from './handlers/subroute.js';
import { varsModule } from './handlers/vars.js';
import { headerMatcher, headerRegexpMatcher } from './match/header.js';
import { hostMatcher } from './match/host.js';
import { methodMatcher } from './match/method.js';
import { notMatcher } from './match/not.js';
import { pathMatcher } from './match/path.js';
import { pathRegexpMatcher } from './match/path_regexp.js';
import { patternMatcher } from './match/pattern.js';
import { urlPatternMatcher } from './match/url_pattern_matcher.js';
import { protocolMatcher } from './match/protocol.js';
import { queryMatcher } from './match/query.js';
import { remoteIpMatcher } from './match/remote_ip.js';
import { Registry, type AnyModule } from './module.js';

/** Every module @ferry/core ships. */
export const coreModules: readonly AnyModule[] = [
  staticResponseModule,
  headersModule,
  subrouteModule,
  errorModule,
  varsModule,
  metricsModule,
  requestBodyModule,
  rewriteModule,
  corsModule,
  pathMatcher,
  pathRegexpMatcher,
  patternMatcher,
  urlPatternMatcher,
  methodMatcher,
  hostMatcher,
  headerMatcher,
  headerRegexpMatcher,
  queryMatcher,
  protocolMatcher,
  remoteIpMatcher,
  notMatcher,
];

/** A fresh registry holding the core modules. */
export function standardRegistry(): Registry {
  return new Registry(coreModules);
}

/**
 * The process-wide default registry: the core modules plus whatever `registerModule` adds
 * (Caddy's `RegisterModule`). Servers and configs use it unless given their own.
 */
export const defaultRegistry: Registry = standardRegistry();

/** Adds a module to the default registry. */
export function registerModule(mod: AnyModule): void {
  defaultRegistry.register(mod);
}
