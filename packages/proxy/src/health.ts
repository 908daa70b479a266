import { request, type Dispatcher } from 'undici';
import type { Logger } from '@ferry/core';
import type { Upstream } from './upstream.js';

export interface ActiveHealth {
  uri: string;
  port: number | undefined;
  interval: number;
  timeout: number;
  expectStatus: number | undefined;
  expectBody: RegExp | undefined;
  passes: number;
  fails: number;
  headers: Record<string, string>;
}

function statusOk(expect: number | undefined, status: number): boolean {
  if (expect === undefined) return status >= 200 && status < 300;
  return expect < 10 ? Math.floor(status / 100) === expect : status === expect;
}

/**
 * Active health checks (Caddy's `health_checks.active`): every `interval`, each upstream is asked
 * for `uri`; `fails` failures in a row mark it down, `passes` successes in a row bring it back.
 */
export function startActiveChecks(
  upstreams: readonly Upstream[],
  cfg: ActiveHealth,
  dispatcher: (up: Upstream) => Dispatcher,
  logger: Logger,
): () => void {
  const streak = new Map<Upstream, number>();
  let stopped = false;
  const check = async (up: Upstream) => {
    let ok = false;
    try {
      const url = new URL(cfg.uri, cfg.port ? `http://${up.host}:${cfg.port}` : up.origin);
      const res = await request(url, {
        dispatcher: dispatcher(up),
        headers: cfg.headers,
        headersTimeout: cfg.timeout,
        bodyTimeout: cfg.timeout,
        signal: AbortSignal.timeout(cfg.timeout),
      });
      const body = await res.body.text();
      ok = statusOk(cfg.expectStatus, res.statusCode) && (!cfg.expectBody || cfg.expectBody.test(body));
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
  run();
  const timer = setInterval(run, cfg.interval);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
