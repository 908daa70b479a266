import type { Logger } from '@ferry/core';
import type { Upstream } from './upstream.js';

export interface ActiveHealth {
  interval: number;
  /** A status, or a single digit for its class (`2`: any 2xx). */
  expectStatus: number;
  expectBody: { test(body: string): boolean } | undefined;
  passes: number;
  fails: number;
}

/**
 * Asks one upstream for the health URI and reports the answer; rejects on any failure or
 * timeout. Made by the proxy over its own transport (h2c upstreams are probed over h2c) and
 * toward the health `port` when one is set.
 */
export type Probe = (up: Upstream) => Promise<{ status: number; body: string }>;

function statusOk(expect: number, status: number): boolean {
  return expect < 10 ? Math.floor(status / 100) === expect : status === expect;
}

/**
 * Active health checks (Caddy's `health_checks.active`): every `interval`, each upstream is asked
 * for `uri`; `fails` failures in a row mark it down, `passes` successes in a row bring it back.
 */
export function startActiveChecks(upstreams: readonly Upstream[], cfg: ActiveHealth, probe: Probe, logger: Logger): () => void {
  const streak = new Map<Upstream, number>();
  let stopped = false;
  const check = async (up: Upstream) => {
    let ok = false;
    try {
      const res = await probe(up);
      ok = statusOk(cfg.expectStatus, res.status) && (!cfg.expectBody || cfg.expectBody.test(res.body));
    } catch {
      ok = false;
    }
    if (stopped) return;
    // Positive streak counts passes, negative counts fails.
    const s = streak.get(up) ?? 0;
    const next = ok ? (s > 0 ? s + 1 : 1) : s < 0 ? s - 1 : -1;
    streak.set(up, next);
    if (ok && !up.checkedHealthy && next >= cfg.passes) {
      up.checkedHealthy = true;
      logger.info({ upstream: up.dial }, 'upstream healthy again');
    } else if (!ok && up.checkedHealthy && -next >= cfg.fails) {
      up.checkedHealthy = false;
      logger.warn({ upstream: up.dial }, 'upstream unhealthy');
    }
  };
  const run = () => void Promise.all(upstreams.map(check));
  // The first check waits a moment: upstreams in the same config may not be listening yet at
  // provision time. Until then an upstream counts as healthy (as in Caddy).
  let timer = setTimeout(
    () => {
      run();
      timer = setInterval(run, cfg.interval);
      timer.unref();
    },
    Math.min(cfg.interval, 500),
  );
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(timer);
  };
}
