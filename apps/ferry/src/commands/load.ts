import { resolve } from 'node:path';
import { ConfigError, loadConfig, type FerryApp, type Logger, type Registry, type Services } from '@ferry/core';
import { distributionRegistry } from '../modules.js';
import { loadPlugins, PluginError } from '../plugins.js';
import { printConfigError, printIssues } from './report.js';

/** Every standard module and the `--plugin`s'; undefined (said on stderr) when a plugin cannot be loaded. */
export async function registryWith(plugins: readonly string[]): Promise<Registry | undefined> {
  const registry = distributionRegistry();
  try {
    await loadPlugins(plugins, registry);
  } catch (err) {
    if (!(err instanceof PluginError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return undefined;
  }
  return registry;
}

/** What ferry provides the modules of a config read from `file` (`ctx.service`): the file's absolute path, which file_server hides. */
export function fileServices(file: string | undefined): Services {
  return file === undefined ? {} : { 'config.file': resolve(file) };
}

/**
 * Reads a config (`read`) and loads it, not started, printing its warnings; undefined when it has
 * problems (every one printed, with its JSON path). What `validate` and `run` share.
 */
export async function loadApp(
  read: () => unknown,
  registry: Registry,
  logger: Logger,
  services?: Services,
): Promise<{ app: FerryApp; json: unknown } | undefined> {
  let app: FerryApp;
  let json: unknown;
  try {
    json = await read();
    app = await loadConfig(json, { registry, logger, services });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    printConfigError(err);
    return undefined;
  }
  printIssues('warning', app.warnings);
  return { app, json };
}
