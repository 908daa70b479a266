import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { compileHeaderOps, headerOpsShape, recordTarget, writerTarget } from '../header_ops.js';
import { defineModule, moduleFactory } from '../module.js';
import type { FerryRequest } from '../request.js';
import { compileResponseMatcher, responseMatcherSchema } from '../response_match.js';
import type { Middleware, ResponseWriter } from '../types.js';
import { ResponseWriterWrapper } from '../writer.js';

const config = z.strictObject({
  request: z.strictObject(headerOpsShape).optional().describe('Operations on the request header fields, before the next handler runs.'),
  response: z
    .strictObject({
      ...headerOpsShape,
      deferred: z.boolean().optional().meta({
        description: 'Apply the ops just before the response header is sent, seeing the fields later handlers set.',
        default: false,
      }),
      require: responseMatcherSchema
        .optional()
        .describe('Apply the ops only to responses this matches (implies `deferred`). Unset: every response.'),
    })
    .optional()
    .describe('Operations on the response header fields.'),
});

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

  override writeHead(
    statusCode: number,
    a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    b?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const headers = typeof a === 'string' ? b : a;
    this.inner.statusCode = statusCode;
    if (headers && !Array.isArray(headers))
      for (const [k, v] of Object.entries(headers)) if (v !== undefined) this.inner.setHeader(k, v as string);
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

/** `http.handlers.headers`: set, add, delete and replace request and response header fields. */
export const headersModule = defineModule({
  id: 'http.handlers.headers',
  description: 'Changes request and response header fields (set, add, delete, replace; deferred, require).',
  config,
  provision(cfg, ctx): Middleware {
    const reqOps = compileHeaderOps(cfg.request, ctx, `${ctx.path}.request`);
    const r = cfg.response;
    const resOps = compileHeaderOps(r, ctx, `${ctx.path}.response`);
    const require = r?.require ? compileResponseMatcher(r.require) : undefined;
    const deferred = r?.deferred === true || require !== undefined;
    const applyRes = (req: FerryRequest, res: ResponseWriter) => {
      if (require && !require(res.statusCode, (name) => res.getHeader(name))) return;
      resOps!(req, writerTarget(res));
    };
    return (req, res, next) => {
      if (reqOps) reqOps(req, recordTarget(req.headers as Record<string, string | string[] | undefined>));
      if (!resOps) return next(req, res);
      if (!deferred) {
        resOps(req, writerTarget(res));
        return next(req, res);
      }
      return next(req, new DeferredHeaderWriter(res, req, applyRes));
    };
  },
});

export const headers = moduleFactory(headersModule);
