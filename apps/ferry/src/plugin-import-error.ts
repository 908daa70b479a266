import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Why importing a plugin file failed, in words that point at the fix. The file itself exists
 * (plugins.ts checked), so a module that cannot be found is one the plugin imports, and the
 * message names it; a syntax error says where it is; anything the plugin throws while loading is
 * shown with its message and the line that threw.
 */
export async function importFailure(err: unknown, file: string): Promise<string> {
  if (!(err instanceof Error)) return `failed to load: it threw ${String(err)}`;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_MODULE_NOT_FOUND') {
    // Node may add a second line, `Did you mean to import "file:///…/index.cjs"?`, found from
    // Ferry's own location: an absolute path in the plugin would be the wrong fix.
    const first = err.message.split('\n', 1)[0]!;
    return `a module it imports cannot be found: ${first}${missingPackageHint(first)}`;
  }
  if (err.name === 'SyntaxError') return `syntax error: ${err.message}${await syntaxErrorLocation(file)}`;
  const at = firstFileFrame(err.stack);
  return `failed to load: ${err.name}: ${err.message}${at ? ` (at ${at})` : ''}`;
}

/** Node says `Cannot find package 'x' imported from /dir/plugin.mjs`: the package is resolved from the importing file's directory. */
function missingPackageHint(message: string): string {
  const m = /^Cannot find package '([^']+)' imported from (.+)$/.exec(message);
  if (!m) return '';
  return ` (a plugin resolves "${m[1]}" from its own directory up: install it in the plugin's project, or put the plugin in the project where Ferry is installed)`;
}

/** `file:///dir/plugin.mjs:3:9` from the first stack frame in a file, as a path. */
function firstFileFrame(stack: string | undefined): string | undefined {
  const m = /\bat (?:.*?\()?(file:\/\/[^\s)]+)\)?$/m.exec(stack ?? '');
  if (!m) return undefined;
  const [, url] = m;
  const pos = /(:\d+:\d+)$/.exec(url!)?.[1] ?? '';
  try {
    return fileURLToPath(url!.slice(0, url!.length - pos.length)) + pos;
  } catch {
    return url;
  }
}

/** How long `node --check` may take on a plugin file before its location is given up on. */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Where a syntax error is. Node's import error has only the message (the location is printed for
 * an uncaught error only), so the file is checked on its own with `node --check`, whose first
 * line is `FILE:LINE`. When the plugin file itself is sound, the error is in a file it imports.
 */
function syntaxErrorLocation(file: string): Promise<string> {
  return new Promise((done) => {
    execFile(process.execPath, ['--check', file], { timeout: CHECK_TIMEOUT_MS, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (!error) return done(' (in a file the plugin imports)');
      const first = stderr.split('\n', 1)[0] ?? '';
      done(/:\d+$/.test(first) ? ` (at ${first})` : '');
    });
  });
}
