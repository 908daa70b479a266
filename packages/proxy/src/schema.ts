import { duration, headerOpsSchema, z } from '@ferry/core';
import { Upstream } from './upstream.js';

const policyNames = [
  'random',
  'round_robin',
  'weighted_round_robin',
  'least_conn',
  'first',
  'ip_hash',
  'client_ip_hash',
  'uri_hash',
  'header',
  'cookie',
] as const;

/** A selection policy as written (recursive, so zod cannot infer it: `fallback` is one too). */
export type SelectionPolicyInput = {
  policy: (typeof policyNames)[number];
  weights?: number[];
  field?: string;
  name?: string;
  secret?: string;
  fallback?: SelectionPolicyInput;
};
/** A selection policy once parsed: its defaults filled in. */
export type SelectionPolicy = Omit<SelectionPolicyInput, 'name' | 'fallback'> & { name: string; fallback?: SelectionPolicy };
// Input typed too (z.ZodType's defaults to unknown), so reverseProxy({ loadBalancing: { selectionPolicy } }) is checked.
const selectionPolicy: z.ZodType<SelectionPolicy, SelectionPolicyInput> = z.lazy(() =>
  z.strictObject({
    policy: z
      .enum(policyNames)
      .describe('The policy; the hash policies use rendezvous hashing, so removing an upstream moves only its keys.'),
    weights: z
      .array(z.number().int().min(0))
      .optional()
      .describe('`weighted_round_robin`: one weight per upstream, in order. Unset: 1 each.'),
    field: z.string().min(1).optional().describe('`header` (required there): the request header field whose value is hashed.'),
    name: z.string().min(1).default('lb').describe('`cookie`: name of the cookie that pins a client to an upstream.'),
    secret: z
      .string()
      .optional()
      .describe('`cookie`: HMAC-SHA256 secret for the cookie value. Unset: a plain SHA-256 of the upstream address.'),
    // Documented, not a zod default: a default policy would be parsed with its own default
    // fallback, and so on for ever. No fallback selects at random (createSelector).
    fallback: selectionPolicy.optional().meta({
      description: '`header`, `cookie`: the policy for a request without the field, or without a cookie naming an available upstream.',
      default: { policy: 'random' },
    }),
  }),
);

/** `load_balancing.selection_policy`, also what createSelector parses its argument with. */
export const selectionPolicyOption = selectionPolicy
  .prefault({ policy: 'random' })
  .describe('How to choose among the available upstreams.');

/** `host:port`, checked here when it holds no placeholder, so the error carries the dial's own path. */
const dialAddress = z
  .string()
  .min(1)
  .superRefine((dial, ctx) => {
    if (dial.includes('{')) return;
    try {
      new Upstream(dial);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/**
 * A group of options that may be left out as a whole: parsed, it is always there, its defaults
 * filled in, so no code restates a default. (`.prefault({})` would do the same, but the reference
 * would then show `{}` as the group's own default.)
 */
function group<T extends z.ZodObject>(schema: T) {
  return schema.optional().transform((value): z.output<T> => value ?? schema.parse({}));
}

/** The options of `reverse_proxy`, as Caddy's: the one place their types, checks and defaults are declared. */
export const reverseProxySchema = z.strictObject({
  upstreams: z
    .array(
      z.strictObject({
        dial: dialAddress.describe(
          'Address of the upstream, `host:port`; placeholders allowed (resolved per request; such upstreams get no active checks).',
        ),
        max_requests: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe('Most requests in flight to this upstream at once; while full, it is not chosen. Unset: no limit.'),
      }),
    )
    .min(1)
    .describe('The backends to proxy to.'),
  load_balancing: group(
    z.strictObject({
      selection_policy: selectionPolicyOption,
      retries: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe(
          'Times to retry a failed request with another upstream: any request after a dial failure, a bodyless GET or HEAD after others; 0: none.',
        ),
      try_duration: duration()
        .prefault('0s')
        .describe('How long to keep retrying and waiting for an available upstream; 0 turns it off (only `retries` count).'),
      try_interval: duration().prefault('250ms').describe('Wait before each retry, and between looks for an available upstream.'),
    }),
  ).describe('How an upstream is chosen, and when a failed request is retried.'),
  health_checks: z
    .strictObject({
      active: z
        .strictObject({
          uri: z.string().optional().describe('Path and query to request. Unset: `path`, else `/`.'),
          path: z.string().optional().describe('Path to request (deprecated in Caddy: use `uri`).'),
          port: z
            .number()
            .int()
            .min(1)
            .max(65535)
            .optional()
            .describe("Port to probe instead of the upstream's own. Unset: the upstream's port."),
          headers: z
            .record(z.string().meta({ title: 'field' }), z.array(z.string()))
            .optional()
            .describe('Header fields to send with each probe (no placeholders).'),
          interval: duration().prefault('30s').describe('Time between probes of each upstream.'),
          timeout: duration().prefault('5s').describe("How long to wait for a probe's response; longer counts as a failure."),
          expect_status: z
            .number()
            .int()
            .default(2)
            .describe('Status a healthy upstream answers; a single digit matches its class (`2` is any 2xx).'),
          expect_body: z
            .string()
            .optional()
            .describe(
              "Regular expression (RE2 syntax, as Caddy's) the body (its first 64 KiB or so) must match, in linear time. Unset: any body.",
            ),
          passes: z.number().int().min(1).default(1).describe('Passing probes in a row that bring an unhealthy upstream back.'),
          fails: z.number().int().min(1).default(1).describe('Failing probes in a row that mark an upstream unhealthy.'),
        })
        .optional()
        .describe('Probe each upstream in the background (upstreams whose dial holds placeholders are not probed). Unset: no probes.'),
      passive: z
        .strictObject({
          fail_duration: duration()
            .prefault('0s')
            .describe('How long a failed request counts against its upstream; more than 0 turns passive checks on.'),
          max_fails: z.number().int().min(1).default(1).describe('Failures within `fail_duration` that mark an upstream unhealthy.'),
          unhealthy_status: z.array(z.number().int()).default([]).describe('Response status codes that count as a failure.'),
          unhealthy_latency: duration()
            .prefault('0s')
            .describe('A response header arriving this late counts as a failure; 0 turns it off.'),
        })
        .optional()
        .describe('Judge upstreams by the proxied requests: failures mark one unhealthy for a while. Unset: off.'),
    })
    .optional()
    .describe('Health checks; an unhealthy upstream is not chosen. Unset: every upstream is healthy.'),
  headers: z
    .strictObject({
      request: headerOpsSchema.optional().describe('Operations on the request sent upstream (after X-Forwarded-* and Via are set).'),
      response: headerOpsSchema.optional().describe("Operations on the upstream's response header."),
    })
    .optional()
    .describe('Header operations between the client and the upstream.'),
  flush_interval: z
    .union([z.literal(-1), duration()])
    .prefault('0s')
    .describe(
      'How often to flush buffered response bytes to the client; `-1`: after every write, 0: not periodically. Event streams and responses without Content-Length flush at once.',
    ),
  stream_timeout: duration()
    .prefault('0s')
    .describe('Close upgraded connections (WebSocket, other Upgrades, RFC 8441 CONNECT) this long after they start; 0: never.'),
  stream_close_delay: duration()
    .prefault('0s')
    .describe('When the server stops, keep upgraded connections open this long before closing them (WebSockets with a 1001 close).'),
  trusted_proxies: z
    .array(z.string())
    .default([])
    .describe(
      'IPs and CIDR ranges of proxies in front: from them X-Forwarded-For/-Proto/-Host are extended, not replaced, and `client_ip_hash` looks past them.',
    ),
  transport: group(
    z.strictObject({
      protocol: z.literal('http').default('http').describe('The transport: `http` is the only one.'),
      dial_timeout: duration().prefault('3s').describe('How long to wait for a connection to an upstream.'),
      response_header_timeout: duration()
        .prefault('0s')
        .describe("How long to wait for the upstream's response header once the request is sent; 0: no limit."),
      keep_alive: group(
        z.strictObject({
          enabled: z.boolean().default(true).describe('Reuse connections to upstreams.'),
          idle_timeout: duration().prefault('2m').describe('How long an idle upstream connection is kept for reuse.'),
          max_idle_conns_per_host: z
            .number()
            .int()
            .min(0)
            .optional()
            .describe(
              "Caddy's cap on idle connections per upstream, accepted for compatibility; Ferry has no separate idle cap (an idle connection closes after `idle_timeout`) and warns. Bound connections with `max_conns_per_host`.",
            ),
        }),
      ).describe('Connection reuse.'),
      max_conns_per_host: z
        .number()
        .int()
        .min(0)
        .default(0)
        .describe(
          'Most connections to one upstream, idle or busy; requests beyond it wait for a free one (or until their client leaves). 0: no limit. Upgraded connections (WebSockets) are not counted, as in Go, which hands such a connection over at its 101; `upstreams[].max_requests` bounds them.',
        ),
      versions: z
        .array(z.enum(['1.1', 'h2c']))
        .min(1)
        .default(['1.1'])
        .describe('HTTP versions to speak upstream: with `h2c` listed, cleartext HTTP/2 by prior knowledge; else HTTP/1.1.'),
    }),
  ).describe("How to reach the upstreams (Caddy's `http` transport)."),
});

/** The options as a user writes them (config file or `reverseProxy({ … })`): every default optional. */
export type ReverseProxyConfig = z.input<typeof reverseProxySchema>;
/** The options once parsed: durations in ms, defaults filled in. */
export type ParsedConfig = z.output<typeof reverseProxySchema>;
