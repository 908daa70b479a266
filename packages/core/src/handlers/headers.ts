import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { defineModule, moduleFactory, type ProvisionContext } from '../module.js';
import type { Template } from '../placeholders.js';
import type { FerryRequest } from '../request.js';
import type { Middleware, ResponseWriter } from '../types.js';
import { ResponseWriterWrapper } from '../writer.js';

const replacement = z
  .strictObject({ search: z.string().optional(), search_regexp: z.string().optional(), replace: z.string().optional() })
  .refine((r) => (r.search === undefined) !== (r.search_regexp === undefined), 'give exactly one of search, search_regexp');

const headerMap = z.record(z.string(), z.array(z.string()));

const ops = {
  add: headerMap.optional(),
  set: headerMap.optional(),
  delete: z.array(z.string()).optional(),
  replace: z.record(z.string(), z.array(replacement)).optional(),
};

const config = z.strictObject({
  request: z.strictObject(ops).optional(),
  response: z
    .strictObject({
      ...ops,
      deferred: z.boolean().optional(),
      require: z.strictObject({ status_code: z.array(z.number().int()).optional(), headers: z.record(z.string(), z.array(z.string()).nullable()).optional() }).optional(),
    })
    .optional(),
});

type Ops = z.output<typeof config>['request'] & {};

/** The two header surfaces ops apply to: the request's header object, or a response writer. */
interface HeaderTarget {
  names(): string[];
  get(name: string): string | undefined;
  set(name: string, values: string[]): void;
  add(name: string, values: string[]): void;
  delete(name: string): void;
}

function requestTarget(req: FerryRequest): HeaderTarget {
  const h = req.headers as Record<string, string | string[] | undefined>;
  return {
    names: () => Object.keys(h),
    get: (n) => {
      const v = h[n.toLowerCase()];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    set: (n, v) => void (h[n.toLowerCase()] = v.length === 1 ? v[0]! : v),
    add: (n, v) => {
      const k = n.toLowerCase();
      const cur = h[k];
      h[k] = cur === undefined ? (v.length === 1 ? v[0]! : v) : [...(Array.isArray(cur) ? cur : [cur]), ...v];
    },
    delete: (n) => void delete h[n.toLowerCase()],
  };
}

function responseTarget(res: ResponseWriter): HeaderTarget {
  return {
    names: () => res.getHeaderNames(),
    get: (n) => {
      const v = res.getHeader(n);
      return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
    },
    set: (n, v) => void res.setHeader(n, v.length === 1 ? v[0]! : v),
    add: (n, v) => void res.appendHeader(n, v),
    delete: (n) => res.removeHeader(n),
  };
}

type CompiledOps = (req: FerryRequest, target: HeaderTarget) => void;

function compileOps(o: Ops | undefined, ctx: ProvisionContext, path: string): CompiledOps | undefined {
  if (!o) return undefined;
  const tmpl = (list: string[], at: string) => list.map((v, i) => ctx.template(v, `${at}[${i}]`));
  const render = (req: FerryRequest, list: Template[]) => list.map((t) => t.render(req));
  const add = Object.entries(o.add ?? {}).map(([n, v]) => [n, tmpl(v, `${path}.add[${JSON.stringify(n)}]`)] as const);
  const set = Object.entries(o.set ?? {}).map(([n, v]) => [n, tmpl(v, `${path}.set[${JSON.stringify(n)}]`)] as const);
  const del = (o.delete ?? []).map((pattern) => {
    const p = pattern.toLowerCase();
    if (p.endsWith('*')) return (n: string) => n.toLowerCase().startsWith(p.slice(0, -1));
    if (p.startsWith('*')) return (n: string) => n.toLowerCase().endsWith(p.slice(1));
    return (n: string) => n.toLowerCase() === p;
  });
  const replace = Object.entries(o.replace ?? {}).map(([name, reps]) => ({
    name,
    reps: reps.map((r) => ({
      re: r.search_regexp !== undefined ? new RegExp(r.search_regexp, 'g') : undefined,
      search: r.search,
      replace: ctx.template(r.replace ?? '', path),
    })),
  }));
  return (req, t) => {
    for (const [n, v] of add) t.add(n, render(req, v));
    for (const [n, v] of set) t.set(n, render(req, v));
    if (del.length > 0) for (const n of t.names()) if (del.some((d) => d(n))) t.delete(n);
    for (const { name, reps } of replace) {
      const names = name === '*' ? t.names() : [name];
      for (const n of names) {
        let v = t.get(n);
        if (v === undefined) continue;
        for (const r of reps) {
          const to = r.replace.render(req);
          v = r.re ? v.replace(r.re, to) : v.split(r.search!).join(to);
        }
        t.set(n, [v]);
      }
    }
  };
}

/** Applies response header ops once, just before the header block is sent (Caddy's deferred ops). */
class DeferredHeaderWriter extends ResponseWriterWrapper {
  #done = false;
  constructor(
    inner: ResponseWriter,
    private readonly req: FerryRequest,
    private readonly apply: (req: FerryRequest, res: ResponseWriter) => void,
  ) {
    super(inner);
  }

  #before(): void {
    if (this.#done || this.inner.headersSent) return;
    this.#done = true;
    this.apply(this.req, this.inner);
  }

  override writeHead(statusCode: number, a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[], b?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this {
    const headers = typeof a === 'string' ? b : a;
    this.inner.statusCode = statusCode;
    if (headers && !Array.isArray(headers)) for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.inner.setHeader(k, v as string);
    this.#before();
    this.inner.writeHead(statusCode, typeof a === 'string' ? a : undefined);
    return this;
  }
  override write(chunk: unknown, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    this.#before();
    return super.write(chunk, encoding, cb);
  }
  override end(chunk?: unknown, encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    this.#before();
    return super.end(chunk, encoding, cb);
  }
  override flushHeaders(): void {
    this.#before();
    super.flushHeaders();
  }
  override flush(): void {
    this.#before();
    super.flush();
  }
}

function statusMatches(codes: number[], status: number): boolean {
  // A single digit matches its class: 2 is any 2xx (Caddy's ResponseMatcher).
  return codes.some((c) => (c < 10 ? Math.floor(status / 100) === c : c === status));
}

/** `http.handlers.headers`: set, add, delete and replace request and response header fields. */
export const headersModule = defineModule({
  id: 'http.handlers.headers',
  description: 'Changes request and response header fields (set, add, delete, replace; deferred, require).',
  config,
  provision(cfg, ctx): Middleware {
    const reqOps = compileOps(cfg.request, ctx, `${ctx.path}.request`);
    const r = cfg.response;
    const resOps = compileOps(r, ctx, `${ctx.path}.response`);
    const require = r?.require;
    const deferred = r?.deferred === true || require !== undefined;
    const requireHeaders = require?.headers
      ? Object.entries(require.headers).map(([n, vals]) => ({ n, vals }))
      : [];
    const applyRes = (req: FerryRequest, res: ResponseWriter) => {
      if (require?.status_code && !statusMatches(require.status_code, res.statusCode)) return;
      for (const { n, vals } of requireHeaders) {
        const v = res.getHeader(n);
        if (vals === null ? v !== undefined : v === undefined || (vals.length > 0 && !vals.includes(String(v)))) return;
      }
      resOps!(req, responseTarget(res));
    };
    return async (req, res, next) => {
      if (reqOps) reqOps(req, requestTarget(req));
      if (!resOps) return next(req, res);
      if (!deferred) {
        resOps(req, responseTarget(res));
        return next(req, res);
      }
      return next(req, new DeferredHeaderWriter(res, req, applyRes));
    };
  },
});

export const headers = moduleFactory(headersModule);
