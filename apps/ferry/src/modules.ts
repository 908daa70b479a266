import { coreModules, Registry, type AnyModule } from '@ferry/core';
import { duplexEchoModule } from '@ferry/duplex';
import { encodeModule } from '@ferry/encode';
import { reverseProxyModule } from '@ferry/proxy';
import { sseModule, ssePublishModule } from '@ferry/sse';

/** Every standard module of the `ferry` distribution. */
export const standardModules: readonly AnyModule[] = [
  ...coreModules,
  encodeModule,
  reverseProxyModule,
  sseModule,
  ssePublishModule,
  duplexEchoModule,
];

/** A registry with every standard module, ready for plugins. */
export function distributionRegistry(): Registry {
  return new Registry(standardModules);
}
