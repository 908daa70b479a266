import config from './default-config.json' with { type: 'json' };

/** The embedded default config: what `ferry run` serves without `--config`. A fresh copy each call. */
export function defaultConfig(): typeof config {
  return structuredClone(config);
}
