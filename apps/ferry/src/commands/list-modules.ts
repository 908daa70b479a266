import type { Command } from './args.js';
import { registryWith } from './load.js';

/** `ferry list-modules`: every registered module ID, one per line (`--verbose`: with its description). */
export const listModules: Command = async ({ flags, out }) => {
  const registry = await registryWith(flags.plugin);
  if (!registry) return 1;
  for (const m of registry.modules()) out(flags.verbose && m.description ? `${m.id}\t${m.description}\n` : `${m.id}\n`);
  return 0;
};
