import { USAGE, parseFlags, type Command, type Out } from './commands/args.js';
import { listModules } from './commands/list-modules.js';
import { reference } from './commands/reference.js';
import { reload } from './commands/reload.js';
import { run } from './commands/run.js';
import { schema } from './commands/schema.js';
import { validate } from './commands/validate.js';
import { version } from './commands/version.js';

const help: Command = async ({ out }) => {
  out(USAGE);
  return 0;
};

/** Every command by the name it is called with; each is a file in commands/. */
const COMMANDS = new Map<string, Command>([
  ['run', run],
  ['validate', validate],
  ['list-modules', listModules],
  ['schema', schema],
  ['reference', reference],
  ['reload', reload],
  ['version', version],
  ['--version', version],
  ['help', help],
  ['--help', help],
  ['-h', help],
]);

/** The `ferry` command. Returns the exit code (run resolves once the server has stopped). */
export async function main(argv: readonly string[], out: Out = (t) => process.stdout.write(t)): Promise<number> {
  const [name, ...rest] = argv;
  const flags = parseFlags(rest);
  if (typeof flags === 'string') {
    process.stderr.write(`ferry: ${flags}\n\n${USAGE}`);
    return 2;
  }
  if (name === undefined) {
    out(USAGE);
    return 2;
  }
  const command = COMMANDS.get(name);
  if (!command) {
    process.stderr.write(`ferry: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command({ flags, argv, out });
}
