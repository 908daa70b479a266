import {
  compileResponseMatcher,
  defineModule,
  moduleFactory,
  responseMatcherSchema,
  z,
  type FerryRequest,
  type Middleware,
} from '@ferry/core';
import { createEncoder, zstdAvailable, type Encoder, type EncodingName } from './encoders.js';
import { negotiate } from './negotiate.js';
import { EncodeWriter } from './writer.js';

/** Caddy's default `match`: text-based content types worth compressing. */
export const DEFAULT_TYPES = [
  'application/atom+xml*',
  'application/eot*',
  'application/font*',
  'application/geo+json*',
  'application/graphql+json*',
  'application/javascript*',
  'application/json*',
  'application/ld+json*',
  'application/manifest+json*',
  'application/opentype*',
  'application/otf*',
  'application/rss+xml*',
  'application/truetype*',
  'application/ttf*',
  'application/vnd.api+json*',
  'application/vnd.ms-fontobject*',
  'application/wasm*',
  'application/x-httpd-cgi*',
  'application/x-javascript*',
  'application/x-opentype*',
  'application/x-otf*',
  'application/x-perl*',
  'application/x-protobuf*',
  'application/x-ttf*',
  'application/xhtml+xml*',
  'application/xml*',
  'font/ttf*',
  'font/otf*',
  'image/svg+xml*',
  'image/vnd.microsoft.icon*',
  'image/x-icon*',
  'multipart/bag*',
  'multipart/mixed*',
  'text/*',
];

/** Why zstd is left out here; said once per config entry that lists it. */
const ZSTD_MISSING = `zstd needs Node 22.15+ or 23.8+ (this is Node ${process.versions.node})`;

/** Caddy's named zstd levels. */
const ZSTD_LEVELS = { fastest: 1, default: 3, better: 7, best: 11 } as const;

const zstdOptions = z.strictObject({
  level: z
    .union([z.enum(['fastest', 'default', 'better', 'best']), z.number().int().min(1).max(22)])
    .default('default')
    .describe('Compression level: `fastest`, `default`, `better`, `best` (1, 3, 7, 11), or 1–22.'),
});
// Quality 4 is the usual choice for on-the-fly brotli: near gzip's speed, smaller output.
const brOptions = z.strictObject({ level: z.number().int().min(0).max(11).default(4).describe('Brotli quality, 0–11.') });
const gzipOptions = z.strictObject({ level: z.number().int().min(0).max(9).default(6).describe('Compression level, 0–9.') });

const config = z
  .strictObject({
    encodings: z
      .strictObject({
        zstd: zstdOptions
          .optional()
          .describe(
            'Zstandard (`zstd`); needs Node 22.15+ or 23.8+. On an older Node it is left out with a warning, or refused when it is the only encoding.',
          ),
        br: brOptions.optional().describe('Brotli (`br`).'),
        gzip: gzipOptions.optional().describe('Gzip (`gzip`).'),
      })
      .optional()
      .describe("The encodings to offer, each with its options. Unset: zstd (where Node has it) and gzip, as Caddy's Caddyfile default."),
    prefer: z
      .array(z.enum(['zstd', 'br', 'gzip']))
      .optional()
      .describe('Order to choose in when the client accepts several equally (same q-value); then zstd, br, gzip. Unset: zstd, br, gzip.'),
    minimum_length: z
      .number()
      .int()
      .min(0)
      .default(512)
      .describe('Smallest response body to compress, in bytes; smaller ones are sent uncompressed.'),
    match: responseMatcherSchema
      .optional()
      .describe(
        "Compress only responses this matches. Unset: a Content-Type in Caddy's list of text-based types (`text/*`, `application/json*`, `image/svg+xml*`, …).",
      ),
  })
  .superRefine((cfg, ctx) => {
    // Checks the shape cannot express, each reported at its own JSON path (not just the handler's).
    // zstd beside another encoding is only left out (provision warns); alone, this encode would
    // compress nothing, where Caddy compresses with zstd: that is refused, not quietly served.
    const e = cfg.encodings;
    if (e?.zstd && !zstdAvailable && !e.br && !e.gzip) {
      ctx.addIssue({
        code: 'custom',
        path: ['encodings', 'zstd'],
        message: `${ZSTD_MISSING}, and it is the only encoding here: add gzip or br, or upgrade Node`,
      });
    }
    const seen = new Set<string>();
    for (const [i, name] of (cfg.prefer ?? []).entries()) {
      if (cfg.encodings && !(name in cfg.encodings)) {
        ctx.addIssue({ code: 'custom', path: ['prefer', i], message: `prefer names "${name}", which is not in encodings` });
      }
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['prefer', i], message: `prefer names "${name}" twice` });
      seen.add(name);
    }
  });

export type EncodeConfig = z.input<typeof config>;

const ORDER: EncodingName[] = ['zstd', 'br', 'gzip'];

function hasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  return (Array.isArray(value) ? value.join(',') : value).split(',').some((v) => v.trim().toLowerCase() === token);
}

/**
 * CONNECT (HTTP/1.1 and RFC 8441 extended CONNECT) and WebSocket/Upgrade handshakes bypass
 * encode entirely: their status is what the peer waits on (field lesson 3), and the handler
 * needs the writer's capabilities untouched.
 */
function bypass(req: FerryRequest): boolean {
  return req.isConnect || req.upgrade !== undefined || req.headers.upgrade !== undefined || req.headers['sec-websocket-key'] !== undefined;
}

/**
 * Strips our `-<encoding>` suffix from every strong entity tag in `If-None-Match` (a list: a
 * cache holding several variants sends them all; a tag may itself contain commas, so tags are
 * matched whole, RFC 9110 §8.8.3). Returns whether any tag was ours.
 */
function stripEncodedTags(req: FerryRequest, encoding: string): boolean {
  const inm = req.headers['if-none-match'];
  if (typeof inm !== 'string') return false;
  const suffix = `-${encoding}"`;
  let stripped = false;
  const out = inm.replace(/(W\/)?"[^"]*"/g, (tag, weak: string | undefined) => {
    if (weak || !tag.endsWith(suffix)) return tag;
    stripped = true;
    return `${tag.slice(0, -suffix.length)}"`;
  });
  if (stripped) req.headers['if-none-match'] = out;
  return stripped;
}

/** `http.handlers.encode`: compresses responses with gzip, br or zstd, negotiated per request. */
export const encodeModule = defineModule({
  id: 'http.handlers.encode',
  description: 'Compresses responses (gzip, br, zstd) when the client accepts it and it pays.',
  config,
  provision(cfg, ctx): Middleware {
    // Without `encodings`, Caddy's Caddyfile default: zstd (where this Node has it) and gzip.
    const wanted = cfg.encodings ?? { ...(zstdAvailable ? { zstd: zstdOptions.parse({}) } : {}), gzip: gzipOptions.parse({}) };
    const encoders = new Map<string, Encoder>();
    for (const name of ORDER) {
      const opts = wanted[name];
      if (!opts) continue;
      if (name === 'zstd' && !zstdAvailable) {
        // `encode zstd gzip` is Caddy's most common encode config: it runs here, without zstd.
        ctx.warn(`${ZSTD_MISSING}; this encode negotiates without it`, `${ctx.path}.encodings.zstd`);
        continue;
      }
      const level = typeof opts.level === 'string' ? ZSTD_LEVELS[opts.level] : opts.level;
      encoders.set(name, createEncoder(name, level));
    }
    // Ties between equal q-values go to `prefer`, then to zstd, br, gzip.
    const offered = [...new Set([...(cfg.prefer ?? []), ...ORDER])].filter((n) => encoders.has(n));
    const settings = {
      minimumLength: cfg.minimum_length,
      match: compileResponseMatcher(cfg.match ?? { headers: { 'Content-Type': DEFAULT_TYPES } }),
    };
    return async (req, res, next) => {
      if (bypass(req) || hasToken(req.headers['cache-control'], 'no-transform')) return next(req, res);
      const name = negotiate(req.headers['accept-encoding'], offered);
      const encoder = name === undefined ? undefined : encoders.get(name);
      // Readable as {http.vars.encode.encoding}: what this request negotiated (used when the response qualifies).
      req.vars['encode.encoding'] = encoder?.name ?? 'identity';
      // The handler made the ETag; it knows it without our suffix (see #setEncodedHeaders).
      const stripped = encoder !== undefined && stripEncodedTags(req, encoder.name);
      const w = new EncodeWriter(res, req, encoder, settings, { encodedValidator: stripped });
      try {
        await next(req, w);
      } catch (err) {
        // A handler that throws turns encoding off, so its error page is not garbled.
        w.abandon();
        throw w.failure ?? err;
      }
      if (!w.writableEnded) w.end();
      await w.done;
      if (w.failure !== undefined) throw w.failure;
    };
  },
});

/** `encode({ encodings: { gzip: {}, zstd: {} }, minimumLength: 1024 })` — the code front door. */
export const encode = moduleFactory(encodeModule);
