import type { ConfigIssue } from '../errors.js';
import type { FerryServer } from '../server/server.js';
import { type LoadOptions, loadServers } from './load.js';

/**
 * Validates a config and provisions every module in it (loadServers, load.ts). Nothing listens
 * yet; every problem, with its JSON path, comes back as one ConfigError.
 */
export async function loadConfig(json: unknown, options: LoadOptions = {}): Promise<FerryApp> {
  const loaded = await loadServers(json, options);
  return new FerryApp(loaded.servers, loaded.warnings, loaded.gracePeriod, structuredClone(json), loaded.options);
}

/** The servers of a config, started and stopped together. */
export class FerryApp {
  #servers: FerryServer[];
  #warnings: readonly ConfigIssue[];
  #gracePeriod: number | undefined;
  #config: unknown;
  #reloading: Promise<void> = Promise.resolve();

  constructor(
    servers: readonly FerryServer[],
    warnings: readonly ConfigIssue[],
    gracePeriod: number | undefined,
    /** The config this app runs (as given: JSON), and how it was loaded — reloads reuse both. */
    config: unknown = undefined,
    readonly options: LoadOptions = {},
  ) {
    this.#servers = [...servers];
    this.#warnings = warnings;
    this.#gracePeriod = gracePeriod;
    this.#config = config;
  }

  get servers(): readonly FerryServer[] {
    return this.#servers;
  }

  get warnings(): readonly ConfigIssue[] {
    return this.#warnings;
  }

  get gracePeriod(): number | undefined {
    return this.#gracePeriod;
  }

  /** The running config (a copy). */
  get config(): unknown {
    return structuredClone(this.#config);
  }

  /** Starts every server; if one cannot listen, the others are stopped and the error is thrown. */
  async start(): Promise<void> {
    try {
      for (const s of this.#servers) await s.listen();
    } catch (err) {
      await this.stop(0);
      throw err;
    }
  }

  async stop(gracePeriod = this.#gracePeriod): Promise<void> {
    await Promise.all(this.#servers.map((s) => s.close(gracePeriod === undefined ? {} : { gracePeriod })));
  }

  server(name: string): FerryServer | undefined {
    return this.#servers.find((s) => s.name === name);
  }

  /**
   * Replaces the running config without dropping a request (Caddy's config load). The new config
   * is validated and provisioned beside the old one first: a bad one throws its ConfigError and the
   * old one keeps serving, untouched. Servers whose listeners stay the same keep them (no accept
   * gap) and switch to the new routes — in-flight requests finish on the old ones, whose modules
   * are cleaned up once those drain. Servers whose listeners change are stopped gracefully and
   * started anew; servers no longer in the config stop. Loads are applied one at a time.
   */
  reload(json: unknown): Promise<void> {
    const run = this.#reloading.then(() => this.#reload(json));
    this.#reloading = run.catch(() => {});
    return run;
  }

  async #reload(json: unknown): Promise<void> {
    const next = await loadServers(json, this.options);
    const byKey = new Map<string, FerryServer>();
    for (const s of this.#servers) byKey.set(s.listenerKey(), s);
    const kept: FerryServer[] = [];
    const fresh: FerryServer[] = [];
    for (const n of next.servers) {
      const old = byKey.get(n.listenerKey());
      if (old) {
        byKey.delete(n.listenerKey());
        old.adopt(n);
        kept.push(old);
      } else fresh.push(n);
    }
    // What is left changed its listeners or is gone: stop it first, so its ports are free.
    await Promise.all([...byKey.values()].map((s) => s.close(next.gracePeriod === undefined ? {} : { gracePeriod: next.gracePeriod })));
    this.#servers = [...kept];
    try {
      for (const n of fresh) {
        await n.listen();
        this.#servers.push(n);
      }
    } catch (err) {
      // A new listener failed (a port in use, say): undo — stop what started, clean up the rest,
      // and go back to the previous config (which switches kept servers back and restarts the
      // ones closed above), then report the failure.
      await Promise.all(fresh.map((n) => n.close({ gracePeriod: 0 })));
      this.#servers = [...kept];
      try {
        await this.#reload(this.#config);
      } catch (again) {
        this.options.logger?.error({ err: again }, 'could not restore the previous config after a failed reload');
      }
      throw err;
    }
    this.#warnings = next.warnings;
    this.#gracePeriod = next.gracePeriod;
    this.#config = structuredClone(json);
  }
}
