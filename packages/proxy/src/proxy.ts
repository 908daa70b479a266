import { defineModule, moduleFactory, type FerryModule, type Middleware } from '@ferry/core';
import { forwarding, trustedList } from './forwarded.js';
import { passiveHealth, startProbes } from './health.js';
import { proxyMetrics } from './metrics.js';
import { UpstreamPool } from './pool.js';
import { proxyHandler } from './retry.js';
import { reverseProxySchema } from './schema.js';
import { createSelector } from './selection.js';
import { createTransport } from './transport.js';

// The module: its schema (schema.ts), the checks zod cannot express, and provision, which wires
// the pieces: the transport (transport.ts), the upstreams (pool.ts), selection (selection.ts),
// health checks (health.ts), the header fields (forwarded.ts), and the handler that tries
// upstreams in turn (retry.ts) and streams their answers (respond.ts) or upgrades (upgrade.ts).

// Typed by its schema's name, so the published declarations say `typeof reverseProxySchema` (written
// with @ferry/core's `z`) rather than spell the schema out against `zod`, which is no dependency of ours.
/** `http.handlers.reverse_proxy`: load-balanced, health-checked proxying, upgrades included. */
export const reverseProxyModule: FerryModule<'http.handlers.reverse_proxy', typeof reverseProxySchema> = defineModule({
  id: 'http.handlers.reverse_proxy',
  description: 'Proxies requests to upstreams: load balancing, health checks, streaming, WebSocket and RFC 8441 upgrades.',
  config: reverseProxySchema,
  validate(cfg) {
    const problems: string[] = [];
    const p = cfg.load_balancing.selection_policy;
    if (p.policy === 'weighted_round_robin' && p.weights && p.weights.length !== cfg.upstreams.length) {
      problems.push(`selection_policy.weights has ${p.weights.length} entries for ${cfg.upstreams.length} upstreams`);
    }
    if (p.policy === 'header' && !p.field) problems.push('selection_policy "header" needs a "field"');
    return problems;
  },
  provision(cfg, ctx): Middleware {
    const lb = cfg.load_balancing;
    const trusted = trustedList(cfg.trusted_proxies);
    const select = createSelector(lb.selection_policy, trusted);
    const transport = createTransport(cfg.transport);
    if (cfg.transport.keep_alive.max_idle_conns_per_host !== undefined) {
      ctx.logger.warn(
        { path: `${ctx.path}.transport.keep_alive.max_idle_conns_per_host` },
        'max_idle_conns_per_host has no effect in Ferry: idle upstream connections close after idle_timeout; bound connections with transport.max_conns_per_host',
      );
    }
    ctx.onCleanup(() => transport.close());
    const passive = passiveHealth(cfg.health_checks?.passive);
    const pool = new UpstreamPool(cfg.upstreams, { weights: lb.selection_policy.weights, passive, release: transport.release }, ctx);
    const metrics = proxyMetrics(ctx.metrics);
    // Static upstreams only: their dials come from the config, so the `upstream` label is bounded
    // by it. Dials with placeholders are request data and never become a label.
    ctx.onCleanup(metrics.watchHealth(() => pool.fixed.map((up) => [up.dial, up.healthy(passive)] as const)));
    const active = cfg.health_checks?.active;
    if (active && pool.fixed.length > 0) ctx.onCleanup(startProbes(active, pool.fixed, transport, ctx));
    return proxyHandler({
      pool,
      select,
      transport,
      forwarding: forwarding(cfg.headers, trusted, ctx),
      passive,
      lb,
      flushInterval: cfg.flush_interval,
      streams: {
        dialTimeout: cfg.transport.dial_timeout,
        streamTimeout: cfg.stream_timeout,
        streamCloseDelay: cfg.stream_close_delay,
        stopping: ctx.server.stopping,
        logger: ctx.logger,
      },
      metrics,
      logger: ctx.logger,
    });
  },
});

/** `reverseProxy({ upstreams: [{ dial: '127.0.0.1:9000' }], loadBalancing: { … } })` — the code front door. */
export const reverseProxy = moduleFactory(reverseProxyModule);
