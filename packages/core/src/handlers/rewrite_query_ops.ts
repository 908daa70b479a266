import { z } from 'zod';
import { compileTemplate, type Template } from '../placeholders.js';
import { compileRegexp, type ConfigRegexp } from '../regexp.js';
import type { FerryRequest } from '../request.js';
import { encodeQuery, parseQuery } from './rewrite_query.js';

const keyVal = (what: string) =>
  z.strictObject({
    key: z.string().describe('The query key; placeholders allowed.'),
    val: z.string().optional().describe(what),
  });

/** The `query` option of `rewrite`: Caddy's `queryOps`. */
export const queryOpsSchema = z
  .strictObject({
    rename: z
      .array(keyVal('The new name of the key (its values kept); placeholders allowed.'))
      .optional()
      .describe('Renames query keys, keeping their values; replaces any values the new name had.'),
    set: z
      .array(keyVal('The value; placeholders allowed.'))
      .optional()
      .describe("Sets query keys to one value, replacing the key's values."),
    add: z.array(keyVal('The value; placeholders allowed.')).optional().describe('Adds a value to query keys, after any they have.'),
    replace: z
      .array(
        z.strictObject({
          key: z.string().describe('The query key whose values change; `*` for every key.'),
          search: z.string().optional().describe('A substring to replace in each value; placeholders allowed.'),
          search_regexp: z.string().optional().describe('A regular expression (RE2 syntax) to replace in each value; wins over `search`.'),
          replace: z
            .string()
            .optional()
            .describe('The replacement; `$1`, `${1}`, `$name`, `${name}` refer to groups of `search_regexp`; placeholders allowed.'),
        }),
      )
      .optional()
      .describe("Replaces substrings or regular-expression matches in keys' values."),
    delete: z.array(z.string()).optional().describe('Query keys to remove; placeholders allowed.'),
  })
  .describe(
    "Operations on the query, in this order: rename, set, add, replace, delete. The query is then written back in Go's form, keys sorted, as Caddy does (a pair with `;` or a bad escape is dropped).",
  );

type QueryOpsConfig = z.output<typeof queryOpsSchema>;

interface KeyVal {
  key: Template;
  val: Template;
}

interface Replacement {
  key: Template;
  search: Template;
  regexp: ConfigRegexp | undefined;
  replace: Template;
}

/** Compiles the query operations once; the result applies them to a raw query string. */
export function compileQueryOps(
  cfg: QueryOpsConfig,
  template: (text: string, path: string) => Template,
  path: string,
): (rawQuery: string, req: FerryRequest) => string {
  const kv = (list: QueryOpsConfig['set'], op: string): KeyVal[] =>
    (list ?? []).map((o, i) => ({
      key: template(o.key, `${path}.${op}[${i}].key`),
      val: template(o.val ?? '', `${path}.${op}[${i}].val`),
    }));
  const rename = kv(cfg.rename, 'rename');
  const set = kv(cfg.set, 'set');
  const add = kv(cfg.add, 'add');
  const replace: Replacement[] = (cfg.replace ?? []).map((r, i) => ({
    key: template(r.key, `${path}.replace[${i}].key`),
    // Rendered as Caddy's ReplaceKnown (an unknown `{…}` stays), so `${name}` reaches the regexp.
    search: compileTemplate(r.search ?? ''),
    regexp: r.search_regexp ? compileRegexp(r.search_regexp, `${path}.replace[${i}].search_regexp`) : undefined,
    replace: compileTemplate(r.replace ?? ''),
  }));
  const del = (cfg.delete ?? []).map((d, i) => template(d, `${path}.delete[${i}]`));

  return (rawQuery, req) => {
    const q = parseQuery(rawQuery);
    for (const r of rename) {
      const from = r.key.renderAll(req);
      const to = r.val.renderAll(req);
      const values = q.get(from);
      if (from === '' || to === '' || from === to || !values) continue;
      q.set(to, values);
      q.delete(from);
    }
    for (const s of set) {
      const key = s.key.renderAll(req);
      if (key !== '') q.set(key, [s.val.renderAll(req)]);
    }
    for (const a of add) {
      const key = a.key.renderAll(req);
      if (key === '') continue;
      const list = q.get(key);
      if (list) list.push(a.val.renderAll(req));
      else q.set(key, [a.val.renderAll(req)]);
    }
    for (const r of replace) replaceValues(q, r, req);
    for (const d of del) {
      const key = d.renderAll(req);
      if (key !== '') q.delete(key);
    }
    return encodeQuery(q);
  };
}

function replaceValues(q: Map<string, string[]>, r: Replacement, req: FerryRequest): void {
  const key = r.key.renderAll(req);
  // As Caddy: search and replace keep a placeholder with no value as written (ReplaceKnown).
  const search = r.search.render(req);
  const replace = r.replace.render(req);
  const change = (v: string) => (r.regexp ? r.regexp.replaceAll(v, replace) : replaceAll(v, search, replace));
  const lists = key === '*' ? [...q.values()] : q.has(key) ? [q.get(key)!] : [];
  for (const list of lists) for (let i = 0; i < list.length; i++) list[i] = change(list[i]!);
}

/** Go's `strings.ReplaceAll`, an empty `search` included (it matches before each character and at the end). */
function replaceAll(s: string, search: string, replace: string): string {
  if (search === '') return replace + [...s].map((c) => c + replace).join('');
  return s.split(search).join(replace);
}
