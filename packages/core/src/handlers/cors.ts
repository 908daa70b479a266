import { z } from 'zod';
import { duration } from '../duration.js';
import { defineModule, moduleFactory } from '../module.js';
import { MAX_ORIGIN_LENGTH, originAllowed, originList, parseOriginEntry, type OriginEntry } from '../origins.js';
import type { FerryRequest } from '../request.js';
import { DONE, type Handler, type Middleware, type ResponseWriter } from '../types.js';
import { addVary } from '../vary.js';

/**
 * Decides in code whether `origin` (the `Origin` field as sent, `"null"` included) may read the
 * responses; only `true` allows it. Called for every request that carries an `Origin`.
 */
export type OriginCheck = (origin: string, req: FerryRequest) => boolean | Promise<boolean>;

/** RFC 9110 §5.6.2 token: what a method or a field name is made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const token = (what: string) => z.string().regex(TOKEN, `not a ${what}: letters, digits and !#$%&'*+.^_\`|~- only`);

/** Methods a browser never asks a preflight about (Fetch: CORS-safelisted methods). */
const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);

/** More names than this in Access-Control-Request-Headers come from no real page: the preflight is refused. */
const MAX_REQUEST_HEADERS = 100;

const originEntry = z.string().transform((entry, ctx): OriginEntry => {
  try {
    return parseOriginEntry(entry);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const config = z
  .strictObject({
    allowed_origins: z
      .union([
        z.array(originEntry).min(1),
        z
          .custom<OriginCheck>((v) => typeof v === 'function', { message: 'expected a list of origins or (in code) a function' })
          .meta({ title: 'function (code only)' }),
      ])
      .describe(
        'Origins whose pages may read the responses: exact origins as browsers send them (`"https://app.example.com"`, `"http://localhost:8080"`), `"*"` for any, or wildcard subdomains (`"https://*.example.com"`: one or more labels, not `https://example.com` itself). In code, also a function `(origin, req) => boolean | Promise<boolean>`.',
      ),
    allowed_methods: z
      .array(token('method'))
      .optional()
      .meta({
        description:
          'Methods a preflight may ask for (case-sensitive, as browsers send them); `"*"` allows any. GET, HEAD and POST need no preflight and are always allowed.',
        default: ['GET', 'HEAD', 'POST'],
      }),
    allowed_headers: z
      .array(token('header name'))
      .optional()
      .describe(
        'Request header fields a preflight may ask for (case-insensitive). Unset or `"*"`: whatever the preflight asks for (Access-Control-Request-Headers), reflected — the origin list is the gate.',
      ),
    exposed_headers: z
      .array(token('header name'))
      .optional()
      .describe('Response header fields pages may read beyond the CORS-safelisted ones (Access-Control-Expose-Headers).'),
    allow_credentials: z.boolean().optional().meta({
      description: 'Let pages send cookies and HTTP authentication and read the answer (Access-Control-Allow-Credentials).',
      default: false,
    }),
    max_age: duration()
      .optional()
      .describe(
        'How long a browser may reuse a preflight answer (Access-Control-Max-Age, whole seconds; Chromium caps it at 2h, Firefox at 24h). Unset: the browser default (5s).',
      ),
    allow_private_network: z.boolean().optional().meta({
      description:
        "Answer Chromium's Private Network Access preflights (Access-Control-Request-Private-Network) with Access-Control-Allow-Private-Network.",
      default: false,
    }),
  })
  .superRefine((c, ctx) => {
    if (c.allow_credentials) {
      const fix = 'browsers refuse it with credentials (Fetch §3.3.5)';
      if (Array.isArray(c.allowed_origins)) {
        c.allowed_origins.forEach((e, i) => {
          if (e.kind === 'any')
            ctx.addIssue({
              code: 'custom',
              path: ['allowed_origins', i],
              message: `"*" with allow_credentials: ${fix}. List the origins that may send credentials, or drop allow_credentials`,
            });
        });
      }
      c.exposed_headers?.forEach((h, i) => {
        if (h === '*')
          ctx.addIssue({
            code: 'custom',
            path: ['exposed_headers', i],
            message: `"*" with allow_credentials: ${fix} (it would name a field called "*"). List the fields`,
          });
      });
    }
    const ms = c.max_age;
    if (ms !== undefined && (ms < 0 || (ms > 0 && ms < 1000))) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_age'],
        message: 'max_age is 0 or at least one second (a JSON number counts nanoseconds): write e.g. "10m"',
      });
    }
  });

type CorsConfig = z.output<typeof config>;

/** The fields and decisions of one `cors` handler, computed once at provision. */
class CorsPolicy {
  /** `*` without credentials: the same answer for every origin, so nothing varies on it. */
  readonly open: boolean;
  readonly check: (origin: string, req: FerryRequest) => boolean | Promise<boolean>;
  readonly #credentials: boolean;
  readonly #exposed: string | undefined;
  readonly #anyMethod: boolean;
  readonly #methods: ReadonlySet<string>;
  readonly #methodsField: string;
  /** Undefined: reflect what the preflight asks for. */
  readonly #headers: ReadonlySet<string> | undefined;
  readonly #headersField: string;
  readonly #maxAge: string | undefined;
  readonly #privateNetwork: boolean;
  readonly #preflightVary: readonly string[];

  constructor(c: CorsConfig) {
    this.#credentials = c.allow_credentials === true;
    const origins = c.allowed_origins;
    if (typeof origins === 'function') {
      this.open = false;
      this.check = (origin, req) => origin.length <= MAX_ORIGIN_LENGTH && origins(origin, req);
    } else {
      const list = originList(origins);
      this.open = list.any && !this.#credentials;
      this.check = (origin) => originAllowed(list, origin);
    }
    this.#exposed = c.exposed_headers?.length ? c.exposed_headers.join(', ') : undefined;
    const methods = c.allowed_methods ?? ['GET', 'HEAD', 'POST'];
    this.#anyMethod = methods.includes('*');
    this.#methods = new Set(methods);
    this.#methodsField = methods.join(', ');
    const headers = c.allowed_headers;
    this.#headers = headers === undefined || headers.includes('*') ? undefined : new Set(headers.map((h) => h.toLowerCase()));
    this.#headersField = headers?.join(', ') ?? '';
    this.#maxAge = c.max_age === undefined ? undefined : String(Math.floor(c.max_age / 1000));
    this.#privateNetwork = c.allow_private_network === true;
    this.#preflightVary = ['Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers'];
    if (this.#privateNetwork) this.#preflightVary = [...this.#preflightVary, 'Access-Control-Request-Private-Network'];
  }

  /** The fields of a response to an allowed origin (or to any request, when `open`). */
  allow(res: ResponseWriter, origin: string): void {
    res.setHeader('access-control-allow-origin', this.open ? '*' : origin);
    if (this.#credentials) res.setHeader('access-control-allow-credentials', 'true');
    if (this.#exposed) res.setHeader('access-control-expose-headers', this.#exposed);
    if (!this.open) addVary(res, 'Origin');
  }

  /** Answers a preflight: 204 with the allow fields, or 403 with none when anything asked for is not allowed. */
  preflight(req: FerryRequest, res: ResponseWriter, origin: string, allowed: boolean): void {
    for (const field of this.#preflightVary) addVary(res, field);
    const method = req.headers['access-control-request-method'];
    const headers = allowed && typeof method === 'string' && this.#methodAllowed(method) ? this.#headersFor(req) : undefined;
    const privateNetwork = req.headers['access-control-request-private-network'] === 'true';
    if (headers === undefined || (privateNetwork && !this.#privateNetwork)) {
      res.statusCode = 403;
      res.end();
      return;
    }
    res.setHeader('access-control-allow-origin', this.open ? '*' : origin);
    if (this.#credentials) res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('access-control-allow-methods', this.#anyMethod ? (method as string) : this.#methodsField);
    if (headers) res.setHeader('access-control-allow-headers', headers);
    if (this.#maxAge !== undefined) res.setHeader('access-control-max-age', this.#maxAge);
    if (privateNetwork) res.setHeader('access-control-allow-private-network', 'true');
    res.statusCode = 204;
    res.end();
  }

  #methodAllowed(method: string): boolean {
    return TOKEN.test(method) && (this.#anyMethod || SAFELISTED_METHODS.has(method) || this.#methods.has(method));
  }

  /**
   * The Access-Control-Allow-Headers value for this preflight ('' when it asks for none), or
   * undefined when it asks for a field that is not allowed, or for a list no page sends.
   */
  #headersFor(req: FerryRequest): string | undefined {
    const asked = req.headers['access-control-request-headers'];
    if (asked === undefined) return '';
    const names: string[] = [];
    for (const item of (Array.isArray(asked) ? asked.join(',') : asked).split(',')) {
      const name = item.trim().toLowerCase();
      if (name === '') continue;
      if (!TOKEN.test(name) || names.length === MAX_REQUEST_HEADERS) return undefined;
      if (this.#headers && !this.#headers.has(name)) return undefined;
      names.push(name);
    }
    if (names.length === 0) return '';
    return this.#headers ? this.#headersField : names.join(', ');
  }
}

/**
 * `http.handlers.cors`: Cross-Origin Resource Sharing (Fetch §3.2). Answers preflights itself
 * (204, or 403 when refused) — they never reach the next handler; gives actual requests from
 * allowed origins their Access-Control-Allow-* fields, with `Vary: Origin` whenever the answer
 * depends on the origin. A disallowed origin gets no CORS field: the browser keeps the response
 * from the page. CORS is no access control on the server: the request itself still runs.
 */
export const corsModule = defineModule({
  id: 'http.handlers.cors',
  description: 'Answers CORS preflights and adds the CORS response fields for allowed origins (exact, wildcard subdomains, *).',
  config,
  provision(cfg, ctx): Middleware {
    if (Array.isArray(cfg.allowed_origins) && cfg.allowed_origins.length > 1 && cfg.allowed_origins.some((e) => e.kind === 'any')) {
      ctx.warn('"*" allows every origin: the other entries change nothing', `${ctx.path}.allowed_origins`);
    }
    const policy = new CorsPolicy(cfg);
    const decided = (req: FerryRequest, res: ResponseWriter, next: Handler, origin: string, allowed: boolean): Promise<void> => {
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        policy.preflight(req, res, origin, allowed);
        return DONE;
      }
      if (allowed) policy.allow(res, origin);
      else addVary(res, 'Origin');
      return next(req, res);
    };
    return (req, res, next) => {
      const origin = req.headers.origin;
      if (origin === undefined) {
        // Not a CORS request; the answer still depends on Origin unless it is the same for all.
        if (policy.open) policy.allow(res, '*');
        else addVary(res, 'Origin');
        return next(req, res);
      }
      const allowed = policy.check(origin, req);
      if (allowed === true || allowed === false) return decided(req, res, next, origin, allowed);
      return Promise.resolve(allowed).then((ok) => decided(req, res, next, origin, ok === true));
    };
  },
});

/** The `cors` handler for code: `cors({ allowedOrigins: ['https://app.example.com'], allowCredentials: true })`. */
export const cors = moduleFactory(corsModule);
