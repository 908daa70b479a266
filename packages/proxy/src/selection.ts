import { createHash, createHmac } from 'node:crypto';
import type { FerryRequest, ResponseWriter } from '@ferry/core';
import { selectionPolicyOption, type SelectionPolicy } from './schema.js';
import type { Upstream } from './upstream.js';

/** Picks one of the available upstreams for a request (undefined when none fits). */
export type Selector = (available: readonly Upstream[], req: FerryRequest, res: ResponseWriter) => Upstream | undefined;

export interface SelectionConfig {
  policy: string;
  weights?: number[];
  field?: string;
  name?: string;
  secret?: string;
  fallback?: SelectionConfig;
}

function hash(s: string): number {
  // FNV-1a, 32 bit: fast and stable across processes.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // FNV-1a alone barely mixes its last characters, so keys that differ only at the end
  // ("user-1", "user-2") all ranked the upstreams alike and landed on one: finish with
  // murmur3's fmix32 avalanche so every input bit moves the whole score.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Rendezvous (highest random weight) hashing, as Caddy does: removing one upstream moves only its keys. */
export function hashPick(available: readonly Upstream[], key: string): Upstream | undefined {
  let best: Upstream | undefined;
  let bestScore = -1;
  for (const up of available) {
    const score = hash(`${up.dial}${key}`);
    if (score > bestScore) {
      best = up;
      bestScore = score;
    }
  }
  return best;
}

const random: Selector = (available) => available[Math.floor(Math.random() * available.length)];

/** The client's address; with `trusted` proxies in front, the first untrusted hop of X-Forwarded-For. */
export function clientIp(req: FerryRequest, trusted: (ip: string) => boolean): string {
  let ip = req.remoteAddress;
  if (!trusted(ip)) return ip;
  const xff = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(xff) ? xff.join(',') : (xff ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    ip = hops[i]!;
    if (!trusted(ip)) return ip;
  }
  return ip;
}

function cookieValue(req: FerryRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Builds a selection policy (Caddy's `load_balancing.selection_policy`). `cfg` goes through the
 * config's schema, which checks it and fills in its defaults (a parsed policy passes unchanged).
 */
export function createSelector(cfg: SelectionConfig | undefined, trusted: (ip: string) => boolean): Selector {
  return selector(selectionPolicyOption.parse(cfg), trusted);
}

function selector(cfg: SelectionPolicy, trusted: (ip: string) => boolean): Selector {
  const policy = cfg.policy;
  // No fallback: random, as the schema documents.
  const fallback = () => (cfg.fallback ? selector(cfg.fallback, trusted) : random);
  switch (policy) {
    case 'random':
      return random;
    case 'first':
      return (available) => available[0];
    case 'round_robin': {
      let n = 0;
      return (available) => available[n++ % available.length];
    }
    case 'weighted_round_robin':
      return weightedRoundRobin();
    case 'least_conn':
      return leastConn;
    case 'ip_hash':
      return (available, req) => hashPick(available, req.remoteAddress);
    case 'client_ip_hash':
      return (available, req) => hashPick(available, clientIp(req, trusted));
    case 'uri_hash':
      return (available, req) => hashPick(available, req.url);
    case 'header':
      return byHeader((cfg.field ?? '').toLowerCase(), fallback());
    case 'cookie':
      return byCookie(cfg.name, cfg.secret ?? '', fallback());
    default:
      throw new Error(`unknown selection policy "${policy}"`);
  }
}

/** Smooth weighted round robin (nginx's): an even interleaving, not bursts. */
function weightedRoundRobin(): Selector {
  const current = new Map<Upstream, number>();
  return (available) => {
    let total = 0;
    let best: Upstream | undefined;
    for (const up of available) {
      const w = up.weight;
      total += w;
      const c = (current.get(up) ?? 0) + w;
      current.set(up, c);
      if (!best || c > current.get(best)!) best = up;
    }
    if (best) current.set(best, current.get(best)! - total);
    return best;
  };
}

/** Fewest requests in flight; ties broken at random. */
const leastConn: Selector = (available) => {
  let min = Infinity;
  let picks: Upstream[] = [];
  for (const up of available) {
    if (up.inFlight < min) {
      min = up.inFlight;
      picks = [up];
    } else if (up.inFlight === min) picks.push(up);
  }
  return picks[Math.floor(Math.random() * picks.length)];
};

/** Hashes the request header `field` (lower case); a request without it goes to `fallback`. */
function byHeader(field: string, fallback: Selector): Selector {
  return (available, req, res) => {
    const v = req.headers[field];
    const s = Array.isArray(v) ? v.join(',') : v;
    return s ? hashPick(available, s) : fallback(available, req, res);
  };
}

/**
 * Pins a client to the upstream its cookie `name` names (the upstream's address, hashed or signed
 * with `secret`); without one naming an available upstream, `fallback` chooses and the cookie is set.
 */
function byCookie(name: string, secret: string, fallback: Selector): Selector {
  const sign = (dial: string) =>
    secret ? createHmac('sha256', secret).update(dial).digest('hex') : createHash('sha256').update(dial).digest('hex');
  return (available, req, res) => {
    const want = cookieValue(req, name);
    if (want) {
      const hit = available.find((up) => sign(up.dial) === want);
      if (hit) return hit;
    }
    const up = fallback(available, req, res);
    if (up && !res.headersSent) {
      // A retry picks again: replace the cookie an earlier attempt set rather than send two.
      const prior = [res.getHeader('set-cookie') ?? []]
        .flat()
        .map(String)
        .filter((c) => !c.startsWith(`${name}=`));
      res.setHeader('set-cookie', [...prior, `${name}=${sign(up.dial)}; Path=/; HttpOnly${req.secure ? '; Secure' : ''}`]);
    }
    return up;
  };
}
