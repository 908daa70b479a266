import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isModule, type AnyModule, type Registry } from '@ferry/core';

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

/**
 * Loads the modules a plugin exports by default — one module or an array — from a file path or
 * an installed package name (resolved from the current directory).
 */
export async function loadPlugin(spec: string, cwd = process.cwd()): Promise<AnyModule[]> {
  let url: string;
  try {
    url = looksLikePath(spec)
      ? pathToFileURL(resolve(cwd, spec)).href
      : pathToFileURL(createRequire(resolve(cwd, 'package.json')).resolve(spec)).href;
  } catch (err) {
    throw new PluginError(spec, 'not found (give a file path or an installed package name)', { cause: err });
  }
  let ns: { default?: unknown };
  try {
    ns = (await import(url)) as { default?: unknown };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new PluginError(spec, e.code === 'ERR_MODULE_NOT_FOUND' ? 'file not found' : `failed to load: ${e.message}`, { cause: err });
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
