import { BlockList, isIP } from 'node:net';
import { compileHeaderOps, recordTarget, type FerryRequest, type ProvisionContext } from '@ferry/core';
import { addVia, requestEndToEnd, type HeaderRecord } from './hop.js';
import type { ParsedConfig } from './schema.js';

/** `trusted_proxies` as a test: whether an address (IPv4-mapped IPv6 counts as its IPv4) is in one of the ranges. */
export function trustedList(ranges: readonly string[]): (ip: string) => boolean {
  if (ranges.length === 0) return () => false;
  const list = new BlockList();
  for (const r of ranges) {
    const [addr, bits] = r.split('/');
    const fam = isIP(addr ?? '');
    if (!fam) throw new Error(`trusted_proxies: "${r}" is not an IP address or CIDR range`);
    const type = fam === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return (ip) => {
    const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const fam = isIP(v4);
    return fam !== 0 && list.check(v4, fam === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The header fields on their way through the proxy, in both directions. */
export interface Forwarding {
  /** The request's fields as the upstream will see them: end-to-end ones, X-Forwarded-*, Via, then `headers.request`. */
  request(req: FerryRequest): HeaderRecord;
  /** The upstream's answer (end-to-end fields already) as the client will see it: Via, then `headers.response`. */
  response(req: FerryRequest, headers: HeaderRecord): HeaderRecord;
  /** Whether `response` may change fields beyond Via (`headers.response` is set). */
  readonly rewritesResponse: boolean;
}

export function forwarding(
  ops: ParsedConfig['headers'],
  trusted: (ip: string) => boolean,
  ctx: Pick<ProvisionContext, 'template' | 'path'>,
): Forwarding {
  const reqOps = compileHeaderOps(ops?.request, ctx, `${ctx.path}.headers.request`);
  const resOps = compileHeaderOps(ops?.response, ctx, `${ctx.path}.headers.response`);
  return {
    request(req) {
      const h = requestEndToEnd(req.raw.rawHeaders, req.headers);
      // Node answered any 100-continue already. Deleted only when there: a delete turns the
      // record into a slow dictionary for everything after it.
      if (h.expect !== undefined) delete h.expect;
      if (req.protocol !== 'http/1.1') h.host = req.authority;
      const client = req.remoteAddress.startsWith('::ffff:') ? req.remoteAddress.slice(7) : req.remoteAddress;
      // X-Forwarded-*: extended for trusted proxies, replaced for everyone else (spoofing guard).
      if (trusted(req.remoteAddress)) {
        const prior = h['x-forwarded-for'];
        h['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
        h['x-forwarded-proto'] ??= req.scheme;
        h['x-forwarded-host'] ??= req.authority;
      } else {
        h['x-forwarded-for'] = client;
        h['x-forwarded-proto'] = req.scheme;
        h['x-forwarded-host'] = req.authority;
      }
      addVia(h, req.protocol === 'http/1.1' ? '1.1' : '2.0');
      if (reqOps) reqOps(req, recordTarget(h));
      return h;
    },
    rewritesResponse: resOps !== undefined,
    response(req, headers) {
      addVia(headers, '1.1');
      if (resOps) resOps(req, recordTarget(headers));
      return headers;
    },
  };
}
