import { compileRegexp, type Logger, type ProvisionContext } from '@ferry/core';
import { signalCancel } from './cancel.js';
import type { ParsedConfig } from './schema.js';
import type { OutRequest, ResponseSink, Transport } from './transport.js';
import { Upstream, type PassiveHealth } from './upstream.js';

// Health checks, as Caddy's `healthchecks.go`: passive ones judge the proxied responses, active
// ones probe each upstream in the background. Either takes an upstream out of selection.

type HealthChecks = NonNullable<ParsedConfig['health_checks']>;

/** `health_checks.passive` as the upstreams apply it; undefined (off) when it is not configured. */
export function passiveHealth(cfg: HealthChecks['passive']): PassiveHealth | undefined {
  if (!cfg) return undefined;
  return {
    failDuration: cfg.fail_duration,
    maxFails: cfg.max_fails,
    unhealthyStatus: cfg.unhealthy_status,
    unhealthyLatency: cfg.unhealthy_latency,
  };
}

/** Passive checks judge a response head: an `unhealthy_status`, or one later than `unhealthy_latency`, is a failure. */
export function judgeHead(up: Upstream, passive: PassiveHealth | undefined, status: number, latency: number): void {
  if (!passive) return;
  if (passive.unhealthyStatus.includes(status)) up.fail(passive);
  else if (passive.unhealthyLatency > 0 && latency > passive.unhealthyLatency) up.fail(passive);
}

interface ActiveHealth {
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
type Probe = (up: Upstream) => Promise<{ status: number; body: string }>;

function statusOk(expect: number, status: number): boolean {
  return expect < 10 ? Math.floor(status / 100) === expect : status === expect;
}

/**
 * Active health checks (Caddy's `health_checks.active`): every `interval`, each upstream is asked
 * for `uri`; `fails` failures in a row mark it down, `passes` successes in a row bring it back.
 */
function startActiveChecks(upstreams: readonly Upstream[], cfg: ActiveHealth, probe: Probe, logger: Logger): () => void {
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

/**
 * Probes over the proxy's own transport (an h2c upstream is probed over h2c) and to the health
 * `port` when one is set.
 */
function transportProbe(cfg: NonNullable<HealthChecks['active']>, upstreams: readonly Upstream[], transport: Transport): Probe {
  const uri = cfg.uri ?? cfg.path ?? '/';
  const headers = Object.fromEntries(Object.entries(cfg.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v.join(', ')]));
  const targets = new Map(
    upstreams.map((up) => [up, cfg.port ? new Upstream(`${up.host.includes(':') ? `[${up.host}]` : up.host}:${cfg.port}`) : up]),
  );
  return (up) =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let status = 0;
      const sink: ResponseSink = {
        informational() {},
        head(s) {
          status = s;
        },
        data(chunk) {
          // expect_body looks at the start of the body; the rest is read and dropped.
          // A copy: the transport may lend its read buffer (ResponseSink.data).
          if (size < 64 * 1024) chunks.push(Buffer.from(chunk));
          size += chunk.length;
          return true;
        },
        end() {},
      };
      const out: OutRequest = {
        method: 'GET',
        path: uri,
        headers: { host: up.dial, ...headers },
        body: null,
        cancel: signalCancel(AbortSignal.timeout(cfg.timeout)),
      };
      transport
        .roundTrip(targets.get(up)!, out, sink)
        .then(() => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }), reject);
    });
}

/** Starts `health_checks.active` for `upstreams` (those with a static dial); returns its stop. */
export function startProbes(
  cfg: NonNullable<HealthChecks['active']>,
  upstreams: readonly Upstream[],
  transport: Transport,
  ctx: Pick<ProvisionContext, 'logger' | 'path'>,
): () => void {
  const probe = transportProbe(cfg, upstreams, transport);
  const expectBody = cfg.expect_body ? compileRegexp(cfg.expect_body, `${ctx.path}.health_checks.active.expect_body`) : undefined;
  const checks = { interval: cfg.interval, expectStatus: cfg.expect_status, expectBody, passes: cfg.passes, fails: cfg.fails };
  return startActiveChecks(upstreams, checks, probe, ctx.logger);
}
