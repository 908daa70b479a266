import { parseArgs } from 'node:util';

export const USAGE = `usage: ferry <command> [options]

commands:
  run [--config FILE] [--plugin P]...   start serving (the embedded default config without --config)
      --workers N                       serve with N worker processes sharing the listeners (N >= 1,
                                        or "auto": one per core; default 1, or $FERRY_WORKERS)
      --host HOST                       without --config: the address the demo listens on
                                        (default 127.0.0.1; 0.0.0.0 or :: for every interface)
      --print-default-config            print the embedded default config and exit
  validate --config FILE [--plugin P]... check a config: every problem with its JSON path
  list-modules [--plugin P]... [--verbose]
                                        print every registered module ID, one per line
  reload --config FILE [--address A]    load FILE into a running ferry through its admin API
                                        (default address localhost:2019), without dropping requests
  schema [--plugin P]...                print the JSON Schema of ferry.json (for editors)
  reference [--plugin P]...             print the config reference (Markdown), as in docs/reference.md
  version                               print the version

--plugin takes a file path or an installed package name whose default export is a module
(or an array of modules) made with defineModule from @ferry/core. It may be repeated.
`;

/** Every flag of every command: one parser for all, so a flag means the same wherever it is given. */
const parse = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      plugin: { type: 'string', multiple: true, default: [] },
      verbose: { type: 'boolean', default: false },
      'print-default-config': { type: 'boolean', default: false },
      address: { type: 'string' },
      workers: { type: 'string' },
      host: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }).values;

/** The flags after the command name, parsed. */
export type Flags = ReturnType<typeof parse>;

/** Where a command prints its result (stdout, unless `main` was given another). */
export type Out = (text: string) => void;

/** What every command gets. */
export interface Invocation {
  flags: Flags;
  /** The whole command line (`run` hands it to its workers). */
  argv: readonly string[];
  out: Out;
}

/** A command of `ferry`: resolves with the process's exit code. */
export type Command = (invocation: Invocation) => Promise<number>;

/** Parses the flags after the command name; a string says what is wrong with them. */
export function parseFlags(args: readonly string[]): Flags | string {
  try {
    return parse(args);
  } catch (err) {
    return (err as Error).message;
  }
}
