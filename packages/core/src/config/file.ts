import { ConfigError } from '../errors.js';
import { FileReadError, readFileBounded } from '../read-file.js';

/**
 * A config file is read whole; past this it is not a config (`--config /dev/zero` would read
 * forever). The admin API's default body limit is the same.
 */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Reads and parses a config file; a missing file or invalid JSON is one clear ConfigError line. */
export async function readConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    // Pipes are fine (`--config <(jq …)`): only the CLI reads this, and it waits as `cat` would.
    text = (await readFileBounded(file, { maxBytes: MAX_CONFIG_BYTES, tooLarge: 'larger than 16 MiB', regularOnly: false })).toString(
      'utf8',
    );
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${err.reason}` }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '', message: `config file ${file} is not valid JSON: ${(err as Error).message}` }]);
  }
}
