import { configJsonSchema } from '../schema.js';
import type { Command } from './args.js';
import { registryWith } from './load.js';

/** `ferry schema`: the JSON Schema of ferry.json, plugins' modules included (for editors). */
export const schema: Command = async ({ flags, out }) => {
  const registry = await registryWith(flags.plugin);
  if (!registry) return 1;
  out(`${JSON.stringify(configJsonSchema(registry), null, 2)}\n`);
  return 0;
};
