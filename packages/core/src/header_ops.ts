import { validateHeaderName } from 'node:http';
import { z } from 'zod';
import type { ProvisionContext } from './module.js';
import type { Template } from './placeholders.js';
import type { FerryRequest } from './request.js';
import type { ResponseWriter } from './types.js';
import { type CheckedField, checkedField, setCheckedField } from './field_store.js';
import { joinPath } from './errors.js';
import { compileRegexp } from './regexp.js';

const replacement = z
  .strictObject({
    search: z.string().optional().describe('Substring to replace, every occurrence (give this or `search_regexp`).'),
    search_regexp: z
      .string()
      .optional()
      .describe(
        "Regular expression to replace, every match (give this or `search`). RE2 syntax, as Caddy's; `replace` expands `$1`, `${1}`, `$name`, `${name}` and `$$` as Go does (`${1}x` when text follows a reference).",
      ),
    replace: z.string().optional().meta({ description: 'Replacement text; placeholders allowed.', default: '' }),
  })
  .refine((r) => (r.search === undefined) !== (r.search_regexp === undefined), 'give exactly one of search, search_regexp');

/** Whether Node takes `name` as a field name (a token, RFC 9110 §5.6.2); `*`, the wildcard of `delete` and `replace`, is a token character. */
function isFieldName(name: string): boolean {
  try {
    validateHeaderName(name);
    return true;
  } catch {
    return false;
  }
}

const token = () =>
  z.string().refine(isFieldName, {
    error: (iss) =>
      `${JSON.stringify(iss.input)} is not a field name: a name is a token (letters, digits and !#$%&'*+-.^_\`|~), without spaces, colons or other characters`,
  });
const fieldName = () => token().meta({ title: 'field' });
const headerMap = z.record(fieldName(), z.array(z.string()));

/** Caddy's HeaderOps fields (applied in this order: `delete: ["*"]`, add, set, delete, replace). */
export const headerOpsShape = {
  add: headerMap.optional().describe('Fields to add, keeping the values already there; values may hold placeholders.'),
  set: headerMap.optional().describe('Fields to set, replacing the values already there; values may hold placeholders.'),
  delete: z
    .array(token())
    .optional()
    .describe(
      'Names of fields to delete, case-insensitive, with `*` wildcards at either end; `"*"` alone deletes every field before add and set.',
    ),
  replace: z
    .record(fieldName(), z.array(replacement))
    .optional()
    .describe('Substring or regexp replacements in the values of a field (`"*"`: every field), applied in order.'),
};

export const headerOpsSchema = z.strictObject(headerOpsShape);
export type HeaderOpsConfig = z.output<typeof headerOpsSchema>;

/** A header field set that ops can change: request headers, a response writer, an upstream's headers. */
export interface HeaderTarget {
  names(): string[];
  get(name: string): string | undefined;
  set(name: string, values: string[]): void;
  /** Optional: sets a field checked when provisioned (field_store.ts); without it, `set` is used. */
  setField?(field: CheckedField): void;
  add(name: string, values: string[]): void;
  delete(name: string): void;
}

type HeaderRecordLike = Record<string, string | string[] | number | undefined>;

/** A plain header record (lower-case keys, as Node keeps them) as a target. */
class RecordTarget implements HeaderTarget {
  constructor(private readonly h: HeaderRecordLike) {}
  names(): string[] {
    return Object.keys(this.h);
  }
  get(n: string): string | undefined {
    const v = this.h[n.toLowerCase()];
    return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
  }
  set(n: string, v: string[]): void {
    this.h[n.toLowerCase()] = own(v);
  }
  setField(f: CheckedField): void {
    this.h[f.key] = f.value;
  }
  add(n: string, v: string[]): void {
    const k = n.toLowerCase();
    const cur = this.h[k];
    this.h[k] = cur === undefined ? own(v) : [...(Array.isArray(cur) ? cur : [String(cur)]), ...v];
  }
  delete(n: string): void {
    delete this.h[n.toLowerCase()];
  }
}

/**
 * Values as a field of this request's own: one value as its string, several as a new array. The
 * values of a field without placeholders are one array for every request, and whoever holds a
 * field's array may append to it (Node's appendHeader pushes onto the array it stored): handed
 * over as is, a later `add` grew the shared array on every request.
 */
export function own(v: readonly string[]): string | string[] {
  return v.length === 1 ? v[0]! : [...v];
}

/** A response writer's header fields (before they are sent) as a target. */
class WriterTarget implements HeaderTarget {
  constructor(private readonly res: ResponseWriter) {}
  names(): string[] {
    return this.res.getHeaderNames();
  }
  get(n: string): string | undefined {
    const v = this.res.getHeader(n);
    return v === undefined ? undefined : Array.isArray(v) ? v.join(', ') : String(v);
  }
  set(n: string, v: string[]): void {
    this.res.setHeader(n, own(v));
  }
  setField(f: CheckedField): void {
    setCheckedField(this.res, f);
  }
  add(n: string, v: string[]): void {
    this.res.appendHeader(n, own(v));
  }
  delete(n: string): void {
    this.res.removeHeader(n);
  }
}

// Classes rather than object literals of closures: one small allocation per request on the hot path.
export function recordTarget(h: HeaderRecordLike): HeaderTarget {
  return new RecordTarget(h);
}

export function writerTarget(res: ResponseWriter): HeaderTarget {
  return new WriterTarget(res);
}

/** What Node refuses in a field value (ERR_INVALID_CHAR): controls but HTAB, and anything past Latin-1. */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const NOT_FIELD_VALUE_ALL = /[^\t\x20-\x7e\x80-\xff]+/g;

/**
 * A rendered placeholder as a field value Node accepts, sending the bytes Caddy would: text past
 * Latin-1 (a decoded path, a header's UTF-8) goes out as its UTF-8 bytes, and a control
 * character (`%0A` in a path) as a space, as Go turns CR and LF into spaces. Without this, one
 * such request made `setHeader` throw: a 500 and a stack trace in the log per request.
 */
export function fieldValue(value: string): string {
  if (!NOT_FIELD_VALUE.test(value)) return value;
  return value.replace(NOT_FIELD_VALUE_ALL, (run) =>
    Array.from(run, (c) => (c.charCodeAt(0) < 0x20 || c === '\x7f' ? ' ' : Buffer.from(c, 'utf8').toString('latin1'))).join(''),
  );
}

/** A field's values: `fixed` when none has a placeholder (rendered once, at compile time), else rendered per request. */
interface FieldValues {
  readonly fixed: string[] | undefined;
  render(req: FerryRequest): string[];
}

function fieldValues(list: Template[]): FieldValues {
  // Without placeholders the values are made once, the same way (static_response's are too): a
  // line break in the config goes out as a space, as Go sends it, rather than failing every request.
  const fixed = list.every((t) => t.isStatic) ? list.map((t) => fieldValue(t.render(null as never))) : undefined;
  return { fixed, render: (req) => list.map((t) => fieldValue(t.render(req))) };
}

/** Compiled header ops: apply them to a target, rendering placeholders against `req`. */
export type HeaderOps = (req: FerryRequest, target: HeaderTarget) => void;

/** Compiles header ops once (templates parsed, regexps built); undefined when there is nothing to do. */
export function compileHeaderOps(
  o: HeaderOpsConfig | undefined,
  ctx: Pick<ProvisionContext, 'template'>,
  path: string,
): HeaderOps | undefined {
  if (!o || (!o.add && !o.set && !o.delete && !o.replace)) return undefined;
  const tmpl = (list: string[], at: string) => fieldValues(list.map((v, i) => ctx.template(v, `${at}[${i}]`)));
  const add = Object.entries(o.add ?? {}).map(([n, v]) => [n, tmpl(v, `${path}.add[${JSON.stringify(n)}]`)] as const);
  const set = Object.entries(o.set ?? {}).map(([n, v]) => {
    const values = tmpl(v, `${path}.set[${JSON.stringify(n)}]`);
    // One fixed value Node accepts is checked here, once, not on every response.
    const checked = values.fixed?.length === 1 ? checkedField(n, values.fixed[0]!) : undefined;
    return [n, values, checked] as const;
  });
  // Caddy's HeaderOps.ApplyTo: "*" clears every field before add and set, so what they add stays.
  const clearAll = (o.delete ?? []).includes('*');
  const del = (o.delete ?? [])
    .filter((pattern) => pattern !== '*')
    .map((pattern) => {
      const p = pattern.toLowerCase();
      if (p.length > 1 && p.startsWith('*') && p.endsWith('*')) return (n: string) => n.toLowerCase().includes(p.slice(1, -1));
      if (p.endsWith('*')) return (n: string) => n.toLowerCase().startsWith(p.slice(0, -1));
      if (p.startsWith('*')) return (n: string) => n.toLowerCase().endsWith(p.slice(1));
      return (n: string) => n.toLowerCase() === p;
    });
  const replace = Object.entries(o.replace ?? {}).map(([name, reps]) => ({
    name,
    reps: reps.map((r, i) => ({
      re: r.search_regexp !== undefined ? compileRegexp(r.search_regexp, joinPath(path, 'replace', name, i, 'search_regexp')) : undefined,
      search: r.search,
      replace: ctx.template(r.replace ?? '', path),
    })),
  }));
  return (req, t) => {
    if (clearAll) for (const n of t.names()) t.delete(n);
    for (const [n, v] of add) t.add(n, v.fixed ?? v.render(req));
    for (const [n, v, checked] of set) {
      if (checked !== undefined && t.setField !== undefined) t.setField(checked);
      else t.set(n, v.fixed ?? v.render(req));
    }
    if (del.length > 0) for (const n of t.names()) if (del.some((d) => d(n))) t.delete(n);
    for (const { name, reps } of replace) {
      for (const n of name === '*' ? t.names() : [name]) {
        let v = t.get(n);
        if (v === undefined) continue;
        for (const r of reps) {
          const to = fieldValue(r.replace.render(req));
          v = r.re ? r.re.replaceAll(v, to) : v.split(r.search!).join(to);
        }
        t.set(n, [v]);
      }
    }
  };
}
