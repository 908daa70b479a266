import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isModule, type AnyModule, type Registry } from '@ferry/core';
import { importFailure } from './plugin-import-error.js';

/** A plugin that could not be loaded, with the reason in words a user can act on. */
export class PluginError extends Error {
  constructor(spec: string, why: string, options?: { cause?: unknown }) {
    super(`plugin ${spec}: ${why}`, options);
    this.name = 'PluginError';
  }
}

function looksLikePath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.(m|c)?js$/.test(spec);
}

/** The plugin's file: a path as given (resolved from `cwd`), or an installed package's entry. */
async function pluginFile(spec: string, cwd: string): Promise<string> {
  if (looksLikePath(spec)) {
    const file = resolve(cwd, spec);
    const info = await stat(file).catch(() => undefined);
    if (!info) throw new PluginError(spec, `file not found: ${file}`);
    if (info.isDirectory()) throw new PluginError(spec, `${file} is a directory: give the plugin's file (such as dist/index.js)`);
    return file;
  }
  try {
    return createRequire(resolve(cwd, 'package.json')).resolve(spec);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED'
        ? `the package's "exports" has no "default" (or "require") condition for its main entry, so it cannot be resolved by name (see docs/modules.md): ${e.message}`
        : `no file or installed package of that name (give a file path, or install the package in ${cwd})`;
    throw new PluginError(spec, why, { cause: err });
  }
}

/**
 * Loads the modules a plugin exports by default — one module or an array — from a file path or
 * an installed package name (resolved from the current directory).
 */
export async function loadPlugin(spec: string, cwd = process.cwd()): Promise<AnyModule[]> {
  const file = await pluginFile(spec, cwd);
  let ns: { default?: unknown };
  try {
    ns = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new PluginError(spec, await importFailure(err, file), { cause: err });
  }
  const exported = ns.default;
  const list = Array.isArray(exported) ? exported : [exported];
  if (exported === undefined || list.length === 0)
    throw new PluginError(spec, 'has no default export (export a module or an array of modules)');
  list.forEach((m, i) => {
    if (!isModule(m))
      throw new PluginError(
        spec,
        `default export${Array.isArray(exported) ? `[${i}]` : ''} is not a module (build it with defineModule from @ferry/core)`,
      );
  });
  return list as AnyModule[];
}

/** Loads every plugin into `registry`, in order. */
export async function loadPlugins(specs: readonly string[], registry: Registry): Promise<void> {
  for (const spec of specs) {
    for (const mod of await loadPlugin(spec)) {
      try {
        registry.register(mod);
      } catch (err) {
        throw new PluginError(spec, (err as Error).message, { cause: err });
      }
    }
  }
}
