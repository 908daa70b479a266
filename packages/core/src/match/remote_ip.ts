import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Matcher } from '../types.js';

function addRange(list: BlockList, range: string): void {
  const [addr, bits, extra] = range.split('/');
  const family = isIP(addr ?? '');
  if (!family || extra !== undefined) throw new Error(`"${range}" is not an IP address or CIDR range`);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) {
    list.addAddress(addr!, type);
    return;
  }
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 6 ? 128 : 32)) throw new Error(`"${range}" has an invalid prefix length`);
  list.addSubnet(addr!, prefix, type);
}

/** `http.matchers.remote_ip`: the client's address (the connection's, not a header's) is in one of `ranges`. */
export const remoteIpMatcher = defineModule({
  id: 'http.matchers.remote_ip',
  description: "Matches the connection's remote address against IPs and CIDR ranges.",
  config: z.strictObject({
    ranges: z
      .array(z.string())
      .min(1)
      .describe('IP addresses and CIDR ranges (`10.0.0.0/8`, `::1`); an IPv4 client on a dual-stack socket is matched as IPv4.'),
  }),
  provision({ ranges }): Matcher {
    const list = new BlockList();
    for (const r of ranges) addRange(list, r);
    return (req) => {
      let ip = req.remoteAddress;
      // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
      if (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4) ip = ip.slice(7);
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
    };
  },
});

export const remoteIp = moduleFactory(remoteIpMatcher, (...ranges: string[]) => ({ ranges }));
