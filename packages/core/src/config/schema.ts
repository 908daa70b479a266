import { z } from 'zod';
import { duration, formatDuration } from '../duration.js';
import { parseListen } from '../listen.js';
import { DEFAULT_DURATIONS, DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_PROTOCOLS } from '../server/options.js';

const listenAddress = z.string().superRefine((v, ctx) => {
  try {
    parseListen(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const routeList = () => z.array(z.unknown().meta({ title: 'route' }));

/**
 * A server's options. The defaults stated here are applied by FerryServer (server/options.ts declares
 * them) and by loadServers (config/servers.ts).
 */
export const serverSchema = z.strictObject({
  listen: z
    .array(listenAddress)
    .min(1)
    .describe(
      'Addresses to listen on: `":8080"` (every interface), `"127.0.0.1:8443"`, `"[::1]:80"`; port 0 picks a free port. No port ranges.',
    ),
  protocols: z
    .array(z.string())
    .min(1)
    .optional()
    .meta({
      description:
        'HTTP versions to serve: `h1`, `h2` (only with TLS), `h2c` (cleartext HTTP/2 by prior knowledge). `h3` is not supported.',
      default: [...DEFAULT_PROTOCOLS],
    }),
  routes: routeList().optional().meta({
    description: 'The routes every request runs through, in order; a request none answers gets an empty 200 (as in Caddy).',
    default: [],
  }),
  errors: z
    .strictObject({ routes: routeList().describe('Error routes, with `{http.error.status_code}` and `{http.error.message}`.') })
    .optional()
    .describe(
      "Handles errors raised by `routes`; unanswered, the error's status is sent with an empty body. Unset: the status and a short plain-text body.",
    ),
  read_timeout: duration()
    .optional()
    .meta({
      description: 'How long an HTTP/1.1 client may take to send a whole request, header and body; 0 means no limit.',
      default: formatDuration(DEFAULT_DURATIONS.readTimeout),
    }),
  read_header_timeout: duration()
    .optional()
    .meta({
      description: 'How long a client may take to send the request header (HTTP/1.1); when set, it bounds the TLS handshake too (else 2m).',
      default: formatDuration(DEFAULT_DURATIONS.readHeaderTimeout),
    }),
  write_timeout: duration()
    .optional()
    .meta({
      description:
        'How long a response may take, from the request header read to its last byte written; an unfinished one is aborted. 0 means no limit.',
      default: formatDuration(DEFAULT_DURATIONS.writeTimeout),
    }),
  idle_timeout: duration()
    .optional()
    .meta({
      description: 'How long an idle keep-alive connection (HTTP/1.1) or a session without streams (HTTP/2) is kept open.',
      default: formatDuration(DEFAULT_DURATIONS.idleTimeout),
    }),
  max_header_bytes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "Largest request header accepted, in bytes (HTTP/1.1 header size, HTTP/2 header list size). Unset: Node's limits (16 KiB for HTTP/1.1).",
    ),
  max_concurrent_streams: z
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .optional()
    .meta({
      description:
        'Most streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Ferry only: Caddy has it fixed at 250. Without a bound one connection opens thousands of streams, each holding memory and an upstream connection.',
      default: DEFAULT_MAX_CONCURRENT_STREAMS,
    }),
  enable_full_duplex: z.boolean().optional().meta({
    description: 'Let handlers write the response while an HTTP/1.1 request body is still arriving (HTTP/2 always can).',
    default: false,
  }),
  logs: z
    .strictObject({})
    .optional()
    .describe(
      "Present (`{}`): an access log line per request (logger `http.log.access`). Caddy's logger-name mapping is not supported: its fields are errors.",
    ),
  tls_connection_policies: z
    .array(
      z.strictObject({
        certificate_selection: z
          .strictObject({
            any_tag: z
              .array(z.string())
              .min(1)
              .describe('Tags (from `apps.tls.certificates`) a certificate must have one of; the tags of all policies count together.'),
          })
          .optional()
          .describe('Which loaded certificates to serve. Unset: every loaded certificate.'),
      }),
    )
    .optional()
    .describe('Serve HTTPS (certificates chosen by SNI). Unset: plain HTTP.'),
  automatic_https: z
    .strictObject({
      disable: z.boolean().optional().meta({
        description: 'Silences the warning that Caddy would serve this server with automatic HTTPS (Ferry obtains no certificates).',
        default: false,
      }),
      disable_redirects: z.boolean().optional().describe('Accepted for Caddy configs; no effect: Ferry adds no HTTP-to-HTTPS redirects.'),
      disable_certificates: z.boolean().optional().describe('Accepted for Caddy configs; no effect: Ferry obtains no certificates.'),
      skip: z.array(z.string()).optional().describe('Accepted for Caddy configs; no effect.'),
      skip_certificates: z.array(z.string()).optional().describe('Accepted for Caddy configs; no effect.'),
    })
    .optional()
    .describe("Caddy's automatic HTTPS settings: Ferry has no automatic HTTPS; only `disable` matters."),
});

const certFile = z.strictObject({
  certificate: z.string().min(1),
  key: z.string().min(1),
  format: z.literal('pem').optional(),
  tags: z.array(z.string()).optional(),
});

const certPem = z.strictObject({ certificate: z.string().min(1), key: z.string().min(1), tags: z.array(z.string()).optional() });

/** The Caddy JSON subset Ferry understands (handlers and matchers are checked by their modules). */
export const configSchema = z.strictObject({
  admin: z
    .strictObject({
      disabled: z.boolean().optional().describe('Turn the admin API off (`ferry run` serves it otherwise).'),
      listen: listenAddress.optional().meta({ description: 'Where the admin API listens.', default: 'localhost:2019' }),
      enforce_origin: z.boolean().optional().describe('Require an allowed Origin header on every admin request.'),
      origins: z
        .array(z.string())
        .optional()
        .describe('Origins allowed besides the admin address itself (`host:port` or `scheme://host:port`).'),
    })
    .optional()
    .describe('The admin API: /load, /config/[path], /stop, with zero-downtime reloads.'),
  apps: z
    .strictObject({
      http: z
        .strictObject({
          http_port: z.number().int().min(1).max(65535).optional(),
          grace_period: duration().optional(),
          /** Per-request metrics for the metrics handler. */
          metrics: z.strictObject({}).optional(),
          // Each server is checked on its own (below), so one bad field does not hide the routes' problems.
          servers: z.record(z.string(), z.unknown()),
        })
        .optional(),
      tls: z
        .strictObject({
          certificates: z.strictObject({ load_files: z.array(certFile).optional(), load_pem: z.array(certPem).optional() }).optional(),
          /** Only Caddy's internal issuer: a self-signed certificate, made and cached locally. */
          automation: z
            .strictObject({
              policies: z
                .array(
                  z.strictObject({
                    subjects: z.array(z.string().min(1)).min(1),
                    issuers: z
                      .array(
                        z.strictObject({
                          module: z.string().refine((m) => m === 'internal', {
                            message: 'only the "internal" issuer is supported: Ferry obtains no certificates from ACME',
                          }),
                        }),
                      )
                      .min(1),
                  }),
                )
                .min(1),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

export type FerryConfig = z.input<typeof configSchema>;
