import { z, type AnyModule, type Registry } from '@ferry/core';
import { configSchema, serverSchema } from '@ferry/core/internal';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

/**
 * A zod schema as JSON Schema (input side: what a config file holds), without its `$schema` line.
 * A `default` given with `.meta()` is kept even on a transforming schema (a duration): zod drops
 * defaults there on the input side, but the meta default is written as the config holds it ("5m").
 */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const js = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const meta = z.globalRegistry.get(zodSchema as unknown as z.ZodType);
      if (meta?.default !== undefined && jsonSchema.default === undefined) jsonSchema.default = meta.default;
    },
  }) as JsonSchema;
  delete js.$schema;
  return js;
}

/**
 * Embeds a module's schema in the config schema: its own `$defs` (zod emits them for recursive
 * parts, like a selection policy's fallback) move to the root under a prefix, refs rewritten.
 */
function embed(js: JsonSchema, prefix: string, defs: Record<string, unknown>): JsonSchema {
  const own = js.$defs as Record<string, unknown> | undefined;
  if (!own) return js;
  delete js.$defs;
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [
          k,
          k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? `#/$defs/${prefix}${x.slice(8)}` : rewrite(x),
        ]),
      );
    }
    return v;
  };
  for (const [name, def] of Object.entries(own)) defs[`${prefix}${name}`] = rewrite(def);
  return rewrite(js) as JsonSchema;
}

function handlerSchema(mod: AnyModule, defs: Record<string, unknown>): JsonSchema {
  const js = embed(jsonSchemaOf(mod.config), `${mod.name}.`, defs);
  // A handler object is the module's options plus "handler": its name.
  const properties = { handler: { const: mod.name, description: mod.description }, ...(js.properties ?? {}) };
  return {
    ...js,
    type: 'object',
    properties,
    required: ['handler', ...(js.required ?? [])],
    additionalProperties: js.additionalProperties ?? false,
  };
}

/** A route (`{ match, handle, terminal, group }`): checked by the route compiler, so described here by hand. */
const routeSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    match: {
      type: 'array',
      description: 'Matcher sets, OR-ed; the matchers within one set are AND-ed. Unset: every request matches.',
      items: { $ref: '#/$defs/matcherSet' },
    },
    handle: { type: 'array', description: 'Handlers, run in order, each calling the next.', items: { $ref: '#/$defs/handler' } },
    terminal: { type: 'boolean', default: false, description: 'No later route of this list runs after this one matches.' },
    group: { type: 'string', description: 'Only the first matching route of a group runs; routes without a group are not exclusive.' },
  },
};

/**
 * The JSON Schema of a `ferry.json` for the modules in `registry` (`ferry schema`): every handler
 * and matcher with its options, so editors can complete and check a config. Generated from the
 * same zod schemas that validate configs, so it cannot drift from them.
 */
export function configJsonSchema(registry: Registry): JsonSchema {
  const mods = registry.modules();
  const handlers = mods.filter((m) => m.kind === 'handler');
  const matchers = mods.filter((m) => m.kind === 'matcher');
  const server = jsonSchemaOf(serverSchema);
  // Routes are checked by the route compiler, not zod: their items point at the route definition here.
  const routes = (of: JsonSchema | undefined): JsonSchema => ({ ...of, type: 'array', items: { $ref: '#/$defs/route' } });
  const errors = server.properties!.errors!;
  server.properties!.routes = routes(server.properties!.routes);
  server.properties!.errors = { ...errors, properties: { routes: routes(errors.properties?.routes) } };
  const defs: Record<string, unknown> = {};
  const root = jsonSchemaOf(configSchema);
  const http = root.properties!.apps!.properties!.http as JsonSchema;
  http.properties!.servers = { type: 'object', additionalProperties: { $ref: '#/$defs/server' } };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Ferry configuration (a subset of Caddy JSON)',
    ...root,
    $defs: {
      server,
      route: routeSchema,
      matcherSet: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(
          matchers.map((m) => [m.name, { ...embed(jsonSchemaOf(m.config), `${m.name}.`, defs), description: m.description }]),
        ),
      },
      handler: { oneOf: handlers.map((h) => handlerSchema(h, defs)) },
      ...defs,
    },
  };
}

/** The definition a `$ref` points at (within `root`), with the referring schema's own keywords on top. */
function resolve(js: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = js.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return js;
  const def = (root.$defs as Record<string, JsonSchema> | undefined)?.[ref.slice(8)];
  if (!def) return js;
  const { $ref: _, ...own } = js;
  return { ...def, ...own };
}

function typeOf(js: JsonSchema | undefined, root: JsonSchema = {}): string {
  if (!js) return 'any';
  js = resolve(js, root);
  // A named kind (`duration`, `route`), or a definition of the config schema (`matcherSet`, `handler`).
  if (typeof js.title === 'string') return js.title;
  if (typeof js.$ref === 'string') return js.$ref.slice(js.$ref.lastIndexOf('/') + 1);
  if (js.const !== undefined) return `\`${JSON.stringify(js.const)}\``;
  if (Array.isArray(js.enum)) return js.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (Array.isArray(js.anyOf)) return (js.anyOf as JsonSchema[]).map((x) => typeOf(x, root)).join(' \\| ');
  if (Array.isArray(js.oneOf)) return (js.oneOf as JsonSchema[]).map((x) => typeOf(x, root)).join(' \\| ');
  if (js.type === 'array') {
    const item = typeOf(js.items as JsonSchema, root);
    return item.includes('\\|') ? `(${item})[]` : `${item}[]`;
  }
  if (js.type === 'object' && js.additionalProperties && typeof js.additionalProperties === 'object') {
    const value = typeOf(js.additionalProperties as JsonSchema, root);
    return value.includes('\\|') ? `map of (${value})` : `map of ${value}`;
  }
  if (js.type === 'object') return 'object';
  if (js.type === 'integer' || js.type === 'number') {
    // zod's safe-integer bounds say nothing a reader needs.
    const min =
      typeof js.exclusiveMinimum === 'number'
        ? `> ${js.exclusiveMinimum}`
        : typeof js.minimum === 'number' && js.minimum > Number.MIN_SAFE_INTEGER
          ? `≥ ${js.minimum}`
          : '';
    const max = typeof js.maximum === 'number' && js.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${js.maximum}` : '';
    const range = [min, max].filter(Boolean).join(', ');
    return range ? `${js.type} (${range})` : js.type;
  }
  if (Array.isArray(js.type)) return (js.type as string[]).join(' \\| ');
  return typeof js.type === 'string' ? js.type : 'any';
}

/** The name a map's keys get in option names: the key schema's title (`<field>`), else `<name>`. */
function keyName(js: JsonSchema): string {
  const title = (js.propertyNames as JsonSchema | undefined)?.title;
  return `<${typeof title === 'string' ? title : 'name'}>`;
}

/** One table row; the default column holds the default value, `required`, or `—` (unset has no value: see the description). */
function row(name: string, prop: JsonSchema, required: boolean, root: JsonSchema): string {
  const def = prop.default !== undefined ? `\`${JSON.stringify(prop.default)}\`` : required ? 'required' : '—';
  const desc = typeof prop.description === 'string' ? prop.description.replace(/\n/g, ' ').replace(/\|/g, '\\|') : '';
  return `| \`${name}\` | ${typeOf(prop, root)} | ${def} | ${desc} |`;
}

/**
 * Rows for what lies inside an option: an object's properties (`a.b`), an array's object items
 * (`a[].b`), a map's object values (`a.<name>.b`). A recursive definition is shown once.
 */
function innerRows(js: JsonSchema, name: string, root: JsonSchema, seen: ReadonlySet<string>): string[] {
  const ref = typeof js.$ref === 'string' ? js.$ref : undefined;
  if (ref && seen.has(ref)) return [];
  const within = ref ? new Set([...seen, ref]) : seen;
  const r = resolve(js, root);
  if (r.properties) return optionRows(r, root, `${name}.`, within);
  if (r.type === 'array' && r.items) return innerRows(r.items as JsonSchema, `${name}[]`, root, within);
  if (r.type === 'object' && r.additionalProperties && typeof r.additionalProperties === 'object') {
    return innerRows(r.additionalProperties as JsonSchema, `${name}.${keyName(r)}`, root, within);
  }
  return [];
}

/** Rows for every option of an object schema, nested ones with dotted names. */
function optionRows(js: JsonSchema, root: JsonSchema, prefix = '', seen: ReadonlySet<string> = new Set()): string[] {
  const rows: string[] = [];
  const required = new Set(js.required ?? []);
  for (const [name, raw] of Object.entries(js.properties ?? {})) {
    const full = prefix + name;
    rows.push(row(full, resolve(raw, root), required.has(name), root), ...innerRows(raw, full, root, seen));
  }
  return rows;
}

const TABLE = ['| option | type | default | description |', '|---|---|---|---|'];

/** A module's options: a table of its properties, or of a map's entries; a plain value in one line. */
function configSection(js: JsonSchema): string[] {
  if (js.type === 'object' && js.properties && Object.keys(js.properties).length > 0) return [...TABLE, ...optionRows(js, js), ''];
  if (js.type === 'object' && js.additionalProperties && typeof js.additionalProperties === 'object') {
    const key = keyName(js);
    const value = js.additionalProperties as JsonSchema;
    const intro =
      typeof js.description === 'string' ? [`Config: ${typeOf(js, js)}. ${js.description}`, ''] : [`Config: ${typeOf(js, js)}.`, ''];
    return [...intro, ...TABLE, row(key, resolve(value, js), false, js), ...innerRows(value, key, js, new Set()), ''];
  }
  if (js.type === 'object') return ['No options.', ''];
  return [`Config: ${typeOf(js, js)}.${typeof js.description === 'string' ? ` ${js.description}` : ''}`, ''];
}

/** The config reference (docs/reference.md): every module and option, generated from the schemas. */
export function configReference(registry: Registry): string {
  const out: string[] = [
    '# Config reference',
    '',
    "<!-- Generated by `ferry reference` from the modules' zod schemas: do not edit by hand. -->",
    '',
    'Every module of the `ferry` distribution, with every option: its type, its default and what it',
    'does. Durations are Go-style strings (`"1m30s"`, `"250ms"`) or integer nanoseconds. A default of',
    '`—` means the option has no default value: what leaving it out does is in its description.',
    'Nested options are dotted (`a.b`); `a[].b` is `b` in each item of the list `a`; `a.<name>.b` is',
    '`b` in each value of the map `a`. A JSON Schema for editors: `ferry schema > ferry.schema.json`.',
    '',
  ];
  for (const kind of ['handler', 'matcher'] as const) {
    out.push(`## ${kind === 'handler' ? 'Handlers' : 'Matchers'}`, '');
    for (const m of registry.modules().filter((x) => x.kind === kind)) {
      out.push(`### \`${m.id}\``, '');
      if (m.description) out.push(m.description, '');
      out.push(...configSection(jsonSchemaOf(m.config)));
    }
  }
  out.push('## Routes (`routes[]` of a server or a `subroute`)', '', ...TABLE, ...optionRows(routeSchema, routeSchema), '');
  const server = jsonSchemaOf(serverSchema);
  out.push('## Server options (`apps.http.servers.NAME`)', '', ...TABLE, ...optionRows(server, server), '');
  return `${out.join('\n')}\n`;
}
