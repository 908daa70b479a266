import { configReference } from '../schema.js';
import type { Command } from './args.js';
import { registryWith } from './load.js';

/** `ferry reference`: the config reference in Markdown, as docs/reference.md is generated. */
export const reference: Command = async ({ flags, out }) => {
  const registry = await registryWith(flags.plugin);
  if (!registry) return 1;
  out(configReference(registry));
  return 0;
};
