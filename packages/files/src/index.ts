/**
 * @ferry/files: static files for Ferry — the `file_server` handler, the `file` matcher and the
 * `spa()` helper, with Caddy's JSON options.
 */
export { fileServer, fileServerModule } from './file_server.js';
export type { FileServerConfig } from './config.js';
export { file, fileMatcher } from './file_matcher.js';
export { spa, spaModule } from './spa.js';
export { contentTypeOf } from './mime.js';

import type { AnyModule } from '@ferry/core';
import { fileMatcher } from './file_matcher.js';
import { fileServerModule } from './file_server.js';

/** The modules to register for config: `file_server` and the `file` matcher. */
export const filesModules: readonly AnyModule[] = [fileServerModule, fileMatcher];
