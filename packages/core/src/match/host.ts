import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { Matcher } from '../types.js';

/** `http.matchers.host`: the host (without port) equals one of these, case-insensitively; `*` stands for one label. */
export const hostMatcher = defineModule({
  id: 'http.matchers.host',
  description: 'Matches the request host; "*.example.com" matches one label.',
  config: z
    .array(z.string().min(1))
    .describe('Host names (without port), case-insensitive; `*` stands for one label (`*.example.com`). Any one may match.'),
  provision(hosts): Matcher {
    const exact = new Set<string>();
    const wild: string[][] = [];
    for (const h of hosts.map((x) => x.toLowerCase())) {
      if (h.includes('*')) wild.push(h.split('.'));
      else exact.add(h);
    }
    return (req) => {
      const host = req.host.toLowerCase();
      if (exact.has(host)) return true;
      if (wild.length === 0) return false;
      const labels = host.split('.');
      return wild.some((w) => w.length === labels.length && w.every((l, i) => l === '*' || l === labels[i]));
    };
  },
});

export const host = moduleFactory(hostMatcher, (...hosts: string[]) => hosts);
