import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop fields, plus the ones proxies have long treated so. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export type HeaderRecord = Record<string, string | string[] | number | undefined>;

function list(v: string | string[] | number | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v.join(',') : String(v)).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/**
 * Copies headers without the hop-by-hop ones and those named in `Connection`, and without h2
 * pseudo-headers. `TE: trailers` survives (gRPC needs it), as in Go's ReverseProxy.
 */
export function endToEnd(headers: IncomingHttpHeaders | OutgoingHttpHeaders, keep?: readonly string[]): HeaderRecord {
  const named = new Set(list(headers.connection as string | string[] | undefined));
  const out: HeaderRecord = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (name.startsWith(':')) continue;
    if ((HOP_BY_HOP.has(name) || named.has(name)) && !keep?.includes(name)) continue;
    out[name] = v as string | string[];
  }
  const te = list(headers.te as string | undefined);
  if (te.includes('trailers')) out.te = 'trailers';
  return out;
}

/** Appends a hop to `Via` (RFC 9110 §7.6.3). */
export function addVia(headers: HeaderRecord, version: string): void {
  const hop = `${version} ferry`;
  const cur = headers.via;
  headers.via = cur === undefined ? hop : `${Array.isArray(cur) ? cur.join(', ') : String(cur)}, ${hop}`;
}
