import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import type { FerryRequest } from '../request.js';
import type { Matcher } from '../types.js';

const VERSION: Record<string, number> = { 'http/1.1': 1.1, h2: 2, h2c: 2 };

/**
 * `http.matchers.protocol`: `http`, `https`, `grpc`, `http/1.1`, `http/2` (and `http/1.1+`,
 * `http/2+` for "this version or newer"), as in Caddy.
 */
export const protocolMatcher = defineModule({
  id: 'http.matchers.protocol',
  description: 'Matches the protocol: http, https, grpc, http/1.0, http/1.1, http/2, http/3 (suffix + for or newer).',
  config: z
    .string()
    .regex(
      /^(https?|grpc|http\/(1\.0|1\.1|2|3)\+?)$/,
      'expected http, https, grpc, or http/1.0, http/1.1, http/2, http/3 (optionally with +)',
    )
    .describe(
      '`http`, `https`, `grpc` (Content-Type `application/grpc…`), or `http/1.0`, `http/1.1`, `http/2`, `http/3`; a trailing `+` also matches newer versions.',
    ),
  provision(proto): Matcher {
    if (proto === 'http') return (req) => !req.secure;
    if (proto === 'https') return (req) => req.secure;
    if (proto === 'grpc') return (req: FerryRequest) => (req.headers['content-type'] ?? '').startsWith('application/grpc');
    const plus = proto.endsWith('+');
    const want = Number(proto.slice(5, plus ? -1 : undefined));
    return (req) => {
      const v = req.protocol === 'http/1.1' ? Number((req.raw as { httpVersion?: string }).httpVersion ?? '1.1') : VERSION[req.protocol]!;
      return plus ? v >= want : v === want;
    };
  },
});

export const protocol = moduleFactory(protocolMatcher, (proto: string) => proto);
