import { coreModules, Registry, type AnyModule } from '@ferry/core';
import { duplexEchoModule } from '@ferry/duplex';
import { encodeModule } from '@ferry/encode';
import { fileMatcher, fileServerModule } from '@ferry/files';
import { reverseProxyModule } from '@ferry/proxy';
import { sseModule, ssePublishModule } from '@ferry/sse';
import { statusModule } from './demo/status.js';
import { websocketEchoModule } from './demo/websocket_echo.js';

/** Every standard module of the `ferry` distribution. */
export const standardModules: readonly AnyModule[] = [
  ...coreModules,
  encodeModule,
  fileServerModule,
  fileMatcher,
  reverseProxyModule,
  sseModule,
  ssePublishModule,
  duplexEchoModule,
  websocketEchoModule,
  statusModule,
];

/** A registry with every standard module, ready for plugins. */
export function distributionRegistry(): Registry {
  return new Registry(standardModules);
}
