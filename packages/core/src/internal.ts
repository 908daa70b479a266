/**
 * `@ferry/core/internal`: what the `ferry` command, adapters and Ferry's own tests use beyond the
 * public surface — the concrete writers, the provisioner, the admin API, the config schemas.
 * No promise of stability: these change with Ferry's internals, without a major version.
 */
export { Http1Writer, Http2Writer } from './writer.js';
export { joinPath } from './errors.js';
export { compileTemplate, resolvePlaceholder, isKnownPlaceholder } from './placeholders.js';
export { compose, chainRoutes } from './route.js';
export { isModuleRef, snakeize } from './module.js';
export { Provisioner, zodIssues, type SchemaSubject } from './provision.js';
export { CADDY_HANDLERS, CADDY_MATCHERS, caddyObject, caddyPlaces } from './caddy_names.js';
export { keysAt } from './schema_keys.js';
export { writeErrorResponse } from './server/respond.js';
export { configSchema, serverSchema } from './config/schema.js';
export { parseListen, type ListenAddress } from './listen.js';
export { standardRegistry } from './standard.js';
export { statusMatches, valuePattern } from './response_match.js';
export { headerOpsShape } from './header_ops.js';
export { internalCertificate, certificateCacheDir } from './internal_ca.js';
export { AdminServer, adminOptionsOf, changeConfig, type AdminOptions, type AdminTarget } from './admin.js';
export { MIN_RELEASED, releaseAfterWrite, releaseWhenWritten, startReleasing } from './release_reads.js';
export { setParsedField } from './field_store.js';
