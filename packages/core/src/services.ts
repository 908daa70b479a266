import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One process's metrics, as prom-client's `Registry.getMetricsAsJSON()` gives them. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The metrics of every process serving one config (the workers of `ferry run --workers N` and
 * their primary), summed by the host: counters and histograms by label set, gauges by their
 * aggregator. Both reject when the group cannot answer in time — a sum missing a process would
 * look like counters going back. `timeoutMs`: how long to wait; the host has a default.
 */
export interface ClusterMetrics {
  /** The Prometheus text exposition of the sum. */
  text(timeoutMs?: number): Promise<string>;
  /** The sum as `Registry.getMetricsAsJSON()` gives it. */
  json(timeoutMs?: number): Promise<MetricsSnapshot>;
}

/**
 * Services a host — the program that loads the config: `ferry run`, or your own code — provides
 * to the modules it runs, by name: what spans more than the process a module runs in, such as a
 * relay between worker processes. A module asks with `ctx.service(name)`, gets undefined when the
 * host provides none, and then works on its own process. Core carries no process plumbing: the
 * host does, as a Caddy module gets the apps it uses from its context (`ctx.App(name)`).
 *
 * A package names the services its modules use by adding to this interface (declaration merging):
 *
 * ```ts
 * declare module '@ferry/core' {
 *   interface FerryServices { 'sse.broker': () => Broker }
 * }
 * ```
 *
 * A host passes its implementations as `services` to `loadConfig` or `createServer`. Namespace
 * names by package (`"sse.broker"`).
 */
export interface FerryServices {
  /**
   * The group's metrics, for the `metrics` handler's `scope: "all"`. Unset, the handler serves
   * this process's metrics: a single process is the whole group.
   */
  'metrics.cluster': ClusterMetrics;
  /**
   * The absolute path of the file the host read this config from (`ferry run --config FILE`).
   * `file_server` hides it, as Caddy hides its config file. Unset when the config came from
   * elsewhere (code, the admin API's first load, the embedded default).
   */
  'config.file': string;
}

/** The services a host provides: any of FerryServices, by name. */
export type Services = { readonly [Name in keyof FerryServices]?: FerryServices[Name] };
