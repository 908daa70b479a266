import type { Registry as MetricsRegistry } from 'prom-client';
import type { KeptState } from '../kept.js';
import type { Logger } from '../log.js';
import type { Registry, ServerInfo } from '../module.js';
import { Provisioner } from '../provision.js';
import type { RequestMetrics } from '../request_metrics.js';
import type { Handler, Middleware } from '../types.js';
import { InFlight } from './in-flight.js';
import type { ServerOptions } from './options.js';
import { serveChain } from './respond.js';

/**
 * One provisioned config of a server: its chain, its modules, and the requests it is serving. A
 * reload provisions the next one beside it and hands it the listeners (FerryServer.adopt); this
 * one retires once its own requests have drained.
 */
export class Generation {
  /** This generation's requests: a reload lets them finish here, on the routes that took them. */
  readonly inFlight = new InFlight();
  /** Request metrics, decided at this generation's first request (every server of its config is provisioned by then); null: off. */
  metrics: RequestMetrics | null | undefined;

  constructor(
    readonly handler: Handler,
    readonly provisioner: Provisioner,
    /** Aborted when this generation stops taking requests (server stop, or replaced by a reload). */
    readonly stopping: AbortController,
    /** The owning server's count; a reload hands the generation to the server that keeps listening. */
    public owner: InFlight,
  ) {}

  /** A request in: counted here and by the owning server. */
  enter(): void {
    this.inFlight.enter();
    this.owner.enter();
  }

  /** A request left flight (its response closed). Bound once: every request of the generation shares it. */
  readonly settle = (): void => {
    this.inFlight.leave();
    this.owner.leave();
  };

  /**
   * Replaced by a reload: its modules are told to stop (long-lived streams get their close delay),
   * its requests get `grace` ms to finish, then the modules are cleaned up.
   */
  async retire(grace: number): Promise<void> {
    this.stopping.abort();
    await this.inFlight.drained(grace);
    await this.provisioner.cleanup();
  }
}

/** What provisioning a server's config needs besides its options. */
export interface GenerationContext {
  readonly name: string;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly kept: KeptState;
  readonly stopping: AbortController;
  readonly owner: InFlight;
}

/**
 * Validates and provisions a server's routes (or handler) and error routes into a generation:
 * every module's config is checked against its schema and every problem is reported (as one
 * ConfigError) before anything listens.
 */
export async function provisionGeneration(o: ServerOptions, ctx: GenerationContext): Promise<Generation> {
  const info: ServerInfo = { name: ctx.name, enableFullDuplex: o.enableFullDuplex === true, stopping: ctx.stopping.signal };
  const p = new Provisioner(ctx.registry, ctx.logger, ctx.metrics, info, o.services, ctx.kept);
  const base = o.configPath ?? '';
  const at = (s: string) => (base ? `${base}.${s}` : s);
  let chain: Middleware;
  const h = o.handler;
  if (typeof h === 'function') chain = (req, res) => h(req, res);
  else if (h) chain = await p.compileHandlers(h, at('handler'));
  else chain = await p.compileRoutes(o.routes ?? [], at('routes'));
  const errRoutes = o.errors?.routes;
  const errors = errRoutes ? await p.compileRoutes(errRoutes, at('errors.routes')) : undefined;
  try {
    p.finish();
  } catch (err) {
    await p.cleanup();
    throw err;
  }
  // Config front door: loadConfig's caller reports the warnings of all servers together.
  if (o.configPath === undefined) for (const w of p.warnings) ctx.logger.warn({ path: w.path }, w.message);
  return new Generation(serveChain(chain, errors, ctx.logger), p, ctx.stopping, ctx.owner);
}
