import { z } from 'zod';
import { defineModule, moduleFactory } from '../module.js';
import { type CheckedField, checkedField, responseField, setCheckedField } from '../field_store.js';
import { DONE, type Middleware, type ResponseWriter } from '../types.js';
import { fieldValue, own } from '../header_ops.js';
import type { Template } from '../placeholders.js';
import type { FerryRequest } from '../request.js';

const config = z.strictObject({
  status_code: z
    .union([z.number().int().min(100).max(999), z.string()])
    .optional()
    .meta({
      description:
        'HTTP status code to respond with: an integer, or a string with placeholders (`"{http.error.status_code}"`); one that renders outside 100–999 sends 500.',
      default: 200,
    }),
  headers: z
    .record(z.string().meta({ title: 'field' }), z.array(z.string()))
    .optional()
    .describe('Header fields to set on the response, replacing any set before; values may hold placeholders.'),
  body: z
    .string()
    .optional()
    .describe(
      'Response body; placeholders allowed. Without a Content-Type header it is sent as `application/json` when it is JSON, else `text/plain; charset=utf-8`. Unset: no body.',
    ),
  close: z
    .boolean()
    .optional()
    .meta({ description: 'Close the connection after the response (`Connection: close`, HTTP/1.1).', default: false }),
  abort: z.boolean().optional().meta({
    description: 'Abort the connection (or reset the HTTP/2 stream) without a response; the other options are ignored.',
    default: false,
  }),
});

/** A header's values, rendered for `req`: one value as a string, several as an array. */
function fieldValues(list: Template[], req: FerryRequest): string | string[] {
  return list.length === 1 ? fieldValue(list[0]!.render(req)) : list.map((v) => fieldValue(v.render(req)));
}

const JSON_FIELD = checkedField('content-type', 'application/json')!;
const TEXT_FIELD = checkedField('content-type', 'text/plain; charset=utf-8')!;

/** A configured field: its values as templates, and when none has a placeholder, made once. */
interface Field {
  name: string;
  list: Template[];
  /** The values without placeholders, rendered once. */
  fixed: string | string[] | undefined;
  /** A fixed single value Node accepts, checked once (field_store.ts). */
  checked: CheckedField | undefined;
}

function compileFields(headers: Record<string, string[]> | undefined, template: (v: string, at: string) => Template): Field[] {
  return Object.entries(headers ?? {}).map(([name, values]) => {
    const list = values.map((v, i) => template(v, `headers[${JSON.stringify(name)}][${i}]`));
    const fixed = list.every((t) => t.isStatic) ? fieldValues(list, null as never) : undefined;
    return { name, list, fixed, checked: typeof fixed === 'string' ? checkedField(name, fixed) : undefined };
  });
}

function setField(res: ResponseWriter, h: Field, req: FerryRequest): void {
  const f = h.fixed;
  if (h.checked !== undefined) setCheckedField(res, h.checked);
  // A fixed list is copied: the response's own array may be appended to (header_ops.ts `own`).
  else res.setHeader(h.name, f === undefined ? fieldValues(h.list, req) : typeof f === 'string' ? f : own(f));
}

function isJson(text: string): boolean {
  const c = text.trimStart()[0];
  if (c !== '{' && c !== '[') return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Up to this many bytes, a fixed body is kept as its string: Node's HTTP/1.1 writer then sends head
 * and body as one string in one write, instead of a writev of the head and a Buffer (hello, one
 * core: 11.95 → 11.71 µs a request, +3 % req/s). Longer ones are encoded once, not per response.
 */
const STRING_BODY_LIMIT = 16 * 1024;

function fixedBody(text: string): string | Buffer {
  return Buffer.byteLength(text) <= STRING_BODY_LIMIT ? text : Buffer.from(text);
}

/**
 * How end() is told to encode a fixed body: an all-ASCII string as latin1, the same bytes. Node's
 * HTTP/1.1 writer joins such a body to the head, and a head joined to a latin1 chunk goes out byte
 * for byte, so the per-response look for bytes past ASCII in the head (latin1_head.ts, ~0.2 µs of
 * a 12 µs hello) is skipped; Node also copies latin1 without encoding it.
 */
function fixedEncoding(body: string | Buffer | undefined): BufferEncoding | undefined {
  return typeof body === 'string' && Buffer.byteLength(body) === body.length ? 'latin1' : undefined;
}

/**
 * Whether a response may give its content's length: not a 1xx, 204 or 304, which have no content
 * (RFC 9110 §8.6), nor a 2xx to CONNECT, after which the connection is a tunnel (§9.3.6).
 */
function hasContentLength(status: number, connect: boolean): boolean {
  if (status < 200 || status === 204 || status === 304) return false;
  return !(connect && status < 300);
}

/** `http.handlers.static_response`: a fixed response; status, headers and body may hold placeholders. */
export const staticResponseModule = defineModule({
  id: 'http.handlers.static_response',
  description: 'Writes a fixed response: status_code, headers, body (placeholders allowed), close, abort.',
  config,
  provision(cfg, ctx): Middleware {
    if (cfg.abort) {
      return (_req, res) => {
        res.destroy();
        return DONE;
      };
    }
    const at = (s: string) => `${ctx.path}.${s}`;
    const status = typeof cfg.status_code === 'string' ? ctx.template(cfg.status_code, at('status_code')) : undefined;
    const fixedStatus = typeof cfg.status_code === 'number' ? cfg.status_code : 200;
    if (status?.isStatic && !/^\d{3}$/.test(status.render(null as never))) {
      throw new Error(`status_code "${cfg.status_code}" is not a 3-digit status`);
    }
    const headers = compileFields(cfg.headers, (v, at2) => ctx.template(v, at(at2)));
    const hasType = headers.some((h) => h.name.toLowerCase() === 'content-type');
    const body = cfg.body === undefined ? undefined : ctx.template(cfg.body, at('body'));
    const staticBody = body?.isStatic ? fixedBody(body.render(null as never)) : undefined;
    const close = cfg.close === true;
    const staticIsJson = staticBody !== undefined && isJson(staticBody.toString());
    const staticLength = staticBody === undefined ? undefined : String(Buffer.byteLength(staticBody));
    const staticEncoding = fixedEncoding(staticBody);
    const staticLengthField = staticLength === undefined ? undefined : checkedField('content-length', staticLength);
    // Not async: a static response finishes synchronously and returns the shared DONE.
    return (req, res) => {
      for (const h of headers) setField(res, h, req);
      // In error routes, Caddy's default status is the error's own, not 200.
      let code = cfg.status_code === undefined && req.error ? req.error.status : fixedStatus;
      if (status) {
        const n = Number(status.render(req));
        code = Number.isInteger(n) && n >= 100 && n <= 999 ? n : 500;
      }
      res.statusCode = code;
      if (close && req.protocol === 'http/1.1') res.setHeader('connection', 'close');
      if (body === undefined) {
        res.end();
        return DONE;
      }
      // Caddy's default for a body without a type: JSON if it is JSON, else plain text.
      const text = staticBody ?? body.render(req);
      if (!hasType && responseField(res, 'content-type') === undefined)
        setCheckedField(res, (staticBody ? staticIsJson : isJson(text as string)) ? JSON_FIELD : TEXT_FIELD);
      // Set, not left to Node: its HTTP/1.1 writer drops it for HEAD and its h2 writer never sets
      // it, yet HEAD carries the fields the GET would (RFC 9110 §9.3.2), as Caddy's does.
      if (hasContentLength(code, req.isConnect)) {
        if (staticLengthField) setCheckedField(res, staticLengthField);
        else res.setHeader('content-length', Buffer.byteLength(text as string));
      }
      if (staticEncoding === undefined) res.end(text);
      else res.end(text, staticEncoding);
      return DONE;
    };
  },
});

export const staticResponse = moduleFactory(staticResponseModule);
