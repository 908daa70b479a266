import { readFileSync } from 'node:fs';
import type { Command } from './args.js';

/** `ferry version`: the package's version and Node's. */
export const version: Command = async ({ out }) => {
  // import.meta.url is dist/cli.js or dist/index.js once built: the package's own package.json is one up.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  out(`ferry ${pkg.version} (node ${process.version})\n`);
  return 0;
};
