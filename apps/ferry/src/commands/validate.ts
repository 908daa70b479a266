import { createLogger, readConfigFile } from '@ferry/core';
import type { Command } from './args.js';
import { fileServices, loadApp, registryWith } from './load.js';

/** `ferry validate --config FILE`: loads the config without serving it; every problem with its JSON path. */
export const validate: Command = async ({ flags, out }) => {
  const registry = await registryWith(flags.plugin);
  if (!registry) return 1;
  const file = flags.config;
  if (!file) {
    process.stderr.write('ferry validate: --config FILE is required\n');
    return 2;
  }
  const loaded = await loadApp(() => readConfigFile(file), registry, createLogger(), fileServices(file));
  if (!loaded) return 1;
  await loaded.app.stop(0);
  out('valid config\n');
  return 0;
};
