/** Passive health settings (Caddy's `health_checks.passive`), durations in ms. */
export interface PassiveHealth {
  failDuration: number;
  maxFails: number;
  unhealthyStatus: readonly number[];
  unhealthyLatency: number;
}

/**
 * One backend: where to dial and what is known of its health (its connections are the transport's).
 * Passive failures are remembered for `fail_duration` each; active checks flip `checkedHealthy`.
 */
export class Upstream {
  readonly host: string;
  readonly port: number;
  /** Requests in flight to it now (least_conn). */
  inFlight = 0;
  /** Set by active health checks; true until a check says otherwise. */
  checkedHealthy = true;
  #fails: number[] = [];

  constructor(
    readonly dial: string,
    readonly weight = 1,
  ) {
    const colon = dial.lastIndexOf(':');
    if (colon <= 0) throw new Error(`upstream dial "${dial}" must be host:port`);
    let host = dial.slice(0, colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const port = Number(dial.slice(colon + 1));
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`upstream dial "${dial}" has no valid port`);
    this.host = host;
    this.port = port;
  }

  /** The address as a URL origin (the h2c transport connects to it). */
  get origin(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Counts one passive failure (a dial error, an unhealthy status or latency). */
  fail(passive: PassiveHealth | undefined, now = Date.now()): void {
    if (!passive || passive.failDuration <= 0) return;
    this.#fails.push(now + passive.failDuration);
  }

  /** `now`: the time to judge at; the clock is read only when passive failures count. */
  healthy(passive: PassiveHealth | undefined, now?: number): boolean {
    if (!this.checkedHealthy) return false;
    if (!passive || passive.failDuration <= 0) return true;
    const at = now ?? Date.now();
    while (this.#fails.length > 0 && this.#fails[0]! <= at) this.#fails.shift();
    return this.#fails.length < passive.maxFails;
  }
}
