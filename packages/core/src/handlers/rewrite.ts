import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defineModule, moduleFactory, type ProvisionContext } from '../module.js';
import { compileTemplate, type Template } from '../placeholders.js';
import { compileRegexp } from '../regexp.js';
import type { FerryRequest } from '../request.js';
import type { Middleware } from '../types.js';
import {
  canonicalAfterStrip,
  cleanRewritePath,
  patternBytes,
  replaceN,
  toRawPath,
  trimPathPrefix,
  trimPathSuffix,
} from './rewrite_path.js';
import { compileQueryOps, queryOpsSchema } from './rewrite_query_ops.js';
import { compileUri, type RewriteTarget } from './rewrite_uri.js';

const config = z.strictObject({
  method: z.string().optional().describe('The new request method (upper-cased); placeholders allowed.'),
  uri: z
    .string()
    .optional()
    .describe(
      'The new URI: a path, a query or both (`/index.html`, `?a=b`, `/x?a=b`); only the parts given change, `?` alone clears the query. Placeholders allowed; in the query their values are escaped, and `?{http.request.uri.query}&a=b` keeps the query and appends to it.',
    ),
  strip_path_prefix: z
    .string()
    .optional()
    .describe(
      'A prefix to remove from the path, written unescaped (a `%xx` in it must be the same escape in the path); case-insensitive, on the cleaned path. `/api` makes `/api/users` `/users`.',
    ),
  strip_path_suffix: z.string().optional().describe('A suffix to remove from the path, compared as `strip_path_prefix`.'),
  uri_substring: z
    .array(
      z.strictObject({
        find: z.string().describe('The substring to find, in the (escaped) path and in the query; placeholders allowed.'),
        replace: z.string().optional().describe('What to put in its place; placeholders allowed.'),
        limit: z
          .number()
          .int()
          .optional()
          .meta({ description: 'The most replacements, in the path and in the query each; 0 or less: all.', default: 0 }),
      }),
    )
    .optional()
    .describe('Substring replacements in the path and the query.'),
  path_regexp: z
    .array(
      z.strictObject({
        find: z
          .string()
          .min(1, 'path_regexp find cannot be empty')
          .describe('A regular expression (RE2 syntax) to find in the escaped path.'),
        replace: z.string().optional().describe('What to put in each match: `$1`, `${name}` refer to its groups; placeholders allowed.'),
      }),
    )
    .optional()
    .describe('Regular-expression replacements in the path.'),
  query: queryOpsSchema.optional(),
  force_modify_query: z.boolean().optional().meta({
    description:
      'Let a `?` that a placeholder value brings into the path set the query even when `uri` has a query of its own. Only for trusted values.',
    default: false,
  }),
});

type RewriteConfig = z.output<typeof config>;
type Step = (req: FerryRequest, target: RewriteTarget) => void;

/** A method is a token (RFC 9110 §9.1): a rendered one that is not would split the request line upstream. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Rewrite templates render as Caddy's `ReplaceAll`: a placeholder with no value is empty. */
function templates(ctx: ProvisionContext): (text: string, path: string) => Template {
  return (text, path) => {
    const t = compileTemplate(text);
    for (const key of t.unknown) ctx.warn(`unknown placeholder {${key}} renders as nothing in a rewrite (as in Caddy)`, path);
    return t;
  };
}

/** The steps of a rewrite, in Caddy's order: uri, strip prefix, strip suffix, substrings, regexps, query. */
function compileSteps(cfg: RewriteConfig, template: (text: string, path: string) => Template, at: (s: string) => string): Step[] {
  const steps: Step[] = [];
  if (cfg.uri) steps.push(compileUri(cfg.uri, cfg.force_modify_query === true, template, at('uri')));
  if (cfg.strip_path_prefix) steps.push(stripStep(template(cfg.strip_path_prefix, at('strip_path_prefix')), 'prefix'));
  if (cfg.strip_path_suffix) steps.push(stripStep(template(cfg.strip_path_suffix, at('strip_path_suffix')), 'suffix'));
  for (const [i, s] of (cfg.uri_substring ?? []).entries()) {
    if (s.find === '') continue;
    const find = template(s.find, at(`uri_substring[${i}].find`));
    const replace = template(s.replace ?? '', at(`uri_substring[${i}].replace`));
    const limit = s.limit && s.limit > 0 ? s.limit : -1;
    const merge = !s.find.includes('//');
    steps.push((req, t) => {
      const f = find.renderAll(req);
      if (f === '') return;
      const r = replace.renderAll(req);
      t.path = toRawPath(replaceN(cleanRewritePath(t.path, merge), f, r, limit));
      t.query = replaceN(t.query, f, r, limit);
    });
  }
  for (const [i, p] of (cfg.path_regexp ?? []).entries()) {
    const re = compileRegexp(p.find, at(`path_regexp[${i}].find`));
    const replace = template(p.replace ?? '', at(`path_regexp[${i}].replace`));
    steps.push((req, t) => {
      t.path = toRawPath(re.replaceAll(t.path, replace.renderAll(req)));
    });
  }
  if (cfg.query) {
    const ops = compileQueryOps(cfg.query, template, at('query'));
    steps.push((req, t) => {
      t.query = ops(t.query, req);
    });
  }
  return steps;
}

/**
 * Strips a prefix or suffix, compared with the cleaned escaped path as Caddy does (repeated
 * slashes kept when the pattern has `//`); a prefix gets its leading `/`. The path is cleaned
 * whether or not it had the affix, and after a strip anchored at `/` and cleaned again.
 */
function stripStep(affix: Template, end: 'prefix' | 'suffix'): Step {
  return (req, t) => {
    let pattern = affix.renderAll(req);
    if (pattern === '') return;
    if (end === 'prefix' && !pattern.startsWith('/')) pattern = `/${pattern}`;
    const cleaned = cleanRewritePath(t.path, !pattern.includes('//'));
    const bytes = patternBytes(pattern);
    const trimmed = end === 'prefix' ? trimPathPrefix(cleaned, bytes) : trimPathSuffix(cleaned, bytes);
    t.path = trimmed === cleaned ? cleaned : canonicalAfterStrip(trimmed);
  };
}

function compileMethod(text: string, template: (text: string, path: string) => Template, path: string): (req: FerryRequest) => string {
  const t = template(text, path);
  if (t.isStatic) {
    const m = t.renderAll(null as never).toUpperCase();
    if (!TOKEN.test(m)) throw new Error(`method ${JSON.stringify(text)} is not an HTTP method (a token such as GET or PURGE)`);
    return () => m;
  }
  return (req) => {
    const m = t.renderAll(req).toUpperCase();
    if (!TOKEN.test(m)) throw new HttpError(400, `rewrite: the method ${JSON.stringify(m)} is not an HTTP method`);
    return m;
  };
}

/**
 * `http.handlers.rewrite` (Caddy's): changes the request's method and URI for the handlers after
 * it — matchers of later routes, `reverse_proxy`'s upstream request — while `{http.request.orig_uri}`
 * and the access log keep the URI the request came with. Whatever a rewrite produces is made a
 * target every later reader reads alike (rewrite_path.ts), so a placeholder value cannot walk
 * past a path matcher that a backend would read differently.
 */
export const rewriteModule = defineModule({
  id: 'http.handlers.rewrite',
  description:
    'Rewrites the request: method, uri, strip_path_prefix/suffix, uri_substring, path_regexp, query ops; {http.request.orig_uri} keeps the original.',
  config,
  provision(cfg, ctx): Middleware {
    const template = templates(ctx);
    const at = (s: string) => `${ctx.path}.${s}`;
    const method = cfg.method ? compileMethod(cfg.method, template, at('method')) : undefined;
    const steps = compileSteps(cfg, template, at);
    return (req, res, next) => {
      // A classic CONNECT's target is an authority, not a path: nothing here applies to it.
      if (req.isConnect && req.extendedConnectProtocol === undefined) return next(req, res);
      if (method) {
        let m: string;
        try {
          m = method(req);
        } catch (err) {
          return Promise.reject(err);
        }
        if (m !== req.method) req.method = m;
      }
      if (steps.length > 0) rewriteUri(req, steps);
      return next(req, res);
    };
  },
});

function rewriteUri(req: FerryRequest, steps: readonly Step[]): void {
  // Path operations apply to an origin-form path; `*` (OPTIONS) has none, only `uri` replaces it.
  const target: RewriteTarget = { path: req.rawPath, query: req.rawQuery };
  for (const step of steps) step(req, target);
  const url = target.query === '' ? target.path : `${target.path}?${target.query}`;
  if (url !== req.url) req.url = url;
}

/** The `rewrite` handler for code: `rewrite({ stripPathPrefix: '/api' })`, `rewrite({ uri: '/index.html' })`. */
export const rewrite = moduleFactory(rewriteModule);
