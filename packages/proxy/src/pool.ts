import type { FerryRequest, ProvisionContext, ResponseWriter, Template } from '@ferry/core';
import type { ParsedConfig } from './schema.js';
import type { Selector } from './selection.js';
import { Upstream, type PassiveHealth } from './upstream.js';

/** Upstreams made from dials with placeholders that are kept (with their pools) at once. */
const DYNAMIC_UPSTREAMS = 1024;

/** One configured upstream: made once when its dial is static, else resolved per request from `tpl`. */
interface Slot {
  up: Upstream | undefined;
  tpl: Template;
  weight: number | undefined;
  /** `max_requests`: most requests in flight to it at once. */
  max: number | undefined;
}

export interface PoolOptions {
  /** `weighted_round_robin`'s weights, one per configured upstream. Unset: 1 each. */
  weights: readonly number[] | undefined;
  passive: PassiveHealth | undefined;
  /** Lets go of a dialled upstream dropped from the cache (its connections close). */
  release: (up: Upstream) => void;
}

/**
 * The upstreams of one reverse_proxy handler, and which of them may take a request: healthy, below
 * `max_requests`, not tried yet by this request. Static upstreams are made once; ones with
 * placeholders are resolved per request and cached (Caddy's `hosts.go`).
 */
export class UpstreamPool {
  /** The upstreams whose dial is static: the ones probed and reported in metrics. */
  readonly fixed: Upstream[] = [];
  readonly #slots: Slot[];
  readonly #dialled = new Map<string, Upstream>();
  readonly #options: PoolOptions;
  /** The one upstream, as a list for the selector, when there is one and its dial is static. */
  readonly #only: readonly Upstream[] | undefined;

  constructor(upstreams: ParsedConfig['upstreams'], options: PoolOptions, ctx: Pick<ProvisionContext, 'template' | 'path'>) {
    this.#options = options;
    this.#slots = upstreams.map((u, i) => {
      const tpl = ctx.template(u.dial, `${ctx.path}.upstreams[${i}].dial`);
      const slot: Slot = { up: undefined, tpl, weight: options.weights?.[i], max: u.max_requests };
      if (tpl.isStatic) {
        slot.up = new Upstream(tpl.render(null as never), slot.weight);
        this.fixed.push(slot.up);
      }
      return slot;
    });
    const first = this.#slots[0]?.up;
    this.#only = this.#slots.length === 1 && first ? Object.freeze([first]) : undefined;
  }

  /** Chooses an upstream for `req` with `select` among those available; undefined when none is. */
  pick(req: FerryRequest, res: ResponseWriter, tried: readonly Upstream[] | undefined, select: Selector): Upstream | undefined {
    const slots = this.#slots;
    // The common case, one static upstream never tried: no list is made, no clock read.
    if (this.#only !== undefined && !tried) {
      const only = slots[0]!;
      return this.#fits(only.up!, only.max, undefined) ? select(this.#only, req, res) : undefined;
    }
    const now = Date.now();
    const fit: Upstream[] = [];
    const untried: Upstream[] = [];
    for (const slot of slots) {
      const up = slot.up ?? this.#dial(slot, req);
      if (!this.#fits(up, slot.max, now)) continue;
      fit.push(up);
      if (!tried?.includes(up)) untried.push(up);
    }
    // Every healthy upstream tried already: a retry may go back to one.
    const available = untried.length > 0 ? untried : fit;
    return available.length === 0 ? undefined : select(available, req, res);
  }

  #fits(up: Upstream, max: number | undefined, now: number | undefined): boolean {
    return up.healthy(this.#options.passive, now) && (max === undefined || up.inFlight < max);
  }

  /** The upstream a dial with placeholders names for this request. */
  #dial(slot: Slot, req: FerryRequest): Upstream {
    const dial = slot.tpl.render(req);
    let hit = this.#dialled.get(dial);
    if (hit) {
      // Most recently used last: the one dropped below is the least recently used.
      this.#dialled.delete(dial);
    } else {
      hit = new Upstream(dial, slot.weight);
      // Dials come from request data, so a client chooses how many there are: keep the most
      // recently used, and close the pool (and its keep-alive connections) of the one dropped.
      if (this.#dialled.size >= DYNAMIC_UPSTREAMS) {
        const [oldest, gone] = this.#dialled.entries().next().value!;
        this.#dialled.delete(oldest);
        this.#options.release(gone);
      }
    }
    this.#dialled.set(dial, hit);
    return hit;
  }
}
