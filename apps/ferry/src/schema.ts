import { configSchema, serverSchema, z, type AnyModule, type Registry } from '@ferry/core';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

/** A zod schema as JSON Schema (input side: what a config file holds), without its `$schema` line. */
export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
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
        Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? `#/$defs/${prefix}${x.slice(8)}` : rewrite(x)]),
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
  return { ...js, type: 'object', properties, required: ['handler', ...(js.required ?? [])], additionalProperties: js.additionalProperties ?? false };
}

/**
 * The JSON Schema of a `ferry.json` for the modules in `registry` (`ferry schema`): every handler
 * and matcher with its options, so editors can complete and check a config. Generated from the
 * same zod schemas that validate configs, so it cannot drift from them.
 */
export function configJsonSchema(registry: Registry): JsonSchema {
  const mods = registry.modules();
  const handlers = mods.filter((m) => m.kind === 'handler');
  const matchers = mods.filter((m) => m.kind === 'matcher');
  const route = {
    type: 'object',
    additionalProperties: false,
    properties: {
      match: { type: 'array', description: 'Matcher sets, OR-ed; the matchers within one set are AND-ed.', items: { $ref: '#/$defs/matcherSet' } },
      handle: { type: 'array', description: 'Handlers, run in order.', items: { $ref: '#/$defs/handler' } },
      terminal: { type: 'boolean', description: 'No later route of this list runs after this one.' },
      group: { type: 'string', description: 'Only the first matching route of a group runs.' },
    },
  };
  const server = jsonSchemaOf(serverSchema);
  server.properties!.routes = { type: 'array', items: { $ref: '#/$defs/route' } };
  server.properties!.errors = { type: 'object', additionalProperties: false, properties: { routes: { type: 'array', items: { $ref: '#/$defs/route' } } } };
  const defs: Record<string, unknown> = {};
  const root = jsonSchemaOf(configSchema);
  const http = (root.properties!.apps!.properties!.http as JsonSchema);
  http.properties!.servers = { type: 'object', additionalProperties: { $ref: '#/$defs/server' } };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Ferry configuration (a subset of Caddy JSON)',
    ...root,
    $defs: {
      server,
      route,
      matcherSet: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(matchers.map((m) => [m.name, { ...embed(jsonSchemaOf(m.config), `${m.name}.`, defs), description: m.description }])),
      },
      handler: { oneOf: handlers.map((h) => handlerSchema(h, defs)) },
      ...defs,
    },
  };
}

function typeOf(js: JsonSchema | undefined): string {
  if (!js) return 'any';
  if (js.const !== undefined) return `\`${JSON.stringify(js.const)}\``;
  if (Array.isArray(js.enum)) return js.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (Array.isArray(js.anyOf)) return (js.anyOf as JsonSchema[]).map(typeOf).join(' \\| ');
  if (Array.isArray(js.oneOf)) return (js.oneOf as JsonSchema[]).map(typeOf).join(' \\| ');
  if (js.type === 'array') return `${typeOf(js.items as JsonSchema)}[]`;
  if (js.type === 'object' && js.additionalProperties && typeof js.additionalProperties === 'object') return `map of ${typeOf(js.additionalProperties as JsonSchema)}`;
  if (js.type === 'object') return 'object';
  if (js.type === 'integer') {
    const range = [js.minimum !== undefined ? `≥ ${js.minimum}` : '', js.maximum !== undefined ? `≤ ${js.maximum}` : ''].filter(Boolean).join(', ');
    return range ? `integer (${range})` : 'integer';
  }
  if (Array.isArray(js.type)) return (js.type as string[]).join(' \\| ');
  return typeof js.type === 'string' ? js.type : 'any';
}

/** Rows for every option, nested ones with dotted names. */
function optionRows(js: JsonSchema, prefix = ''): string[] {
  const rows: string[] = [];
  const required = new Set(js.required ?? []);
  for (const [name, prop] of Object.entries(js.properties ?? {})) {
    const full = prefix + name;
    const def = prop.default !== undefined ? `\`${JSON.stringify(prop.default)}\`` : required.has(name) ? 'required' : '';
    const desc = typeof prop.description === 'string' ? prop.description.replace(/\n/g, ' ') : '';
    rows.push(`| \`${full}\` | ${typeOf(prop)} | ${def} | ${desc} |`);
    if (prop.type === 'object' && prop.properties) rows.push(...optionRows(prop, `${full}.`));
  }
  return rows;
}

/** The config reference (docs/reference.md): every module and option, generated from the schemas. */
export function configReference(registry: Registry): string {
  const out: string[] = [
    '# Config reference',
    '',
    '<!-- Generated by `ferry reference` from the modules\' zod schemas: do not edit by hand. -->',
    '',
    'Every module of the `ferry` distribution, with every option, its type and default. Durations are',
    'Go-style strings (`"1m30s"`, `"250ms"`) or integer nanoseconds. A JSON Schema for editors:',
    '`ferry schema > ferry.schema.json`. A default not shown here is described in the module\'s docs.',
    '',
  ];
  for (const kind of ['handler', 'matcher'] as const) {
    out.push(`## ${kind === 'handler' ? 'Handlers' : 'Matchers'}`, '');
    for (const m of registry.modules().filter((x) => x.kind === kind)) {
      out.push(`### \`${m.id}\``, '');
      if (m.description) out.push(m.description, '');
      const js = jsonSchemaOf(m.config);
      if (js.type === 'object' && js.properties && Object.keys(js.properties).length > 0) {
        out.push('| option | type | default | description |', '|---|---|---|---|', ...optionRows(js), '');
      } else if (js.type === 'object' && !js.properties && js.additionalProperties) {
        out.push(`Config: ${typeOf(js)}.`, '');
      } else if (js.type === 'object') {
        out.push('No options.', '');
      } else {
        out.push(`Config: ${typeOf(js)}.`, '');
      }
    }
  }
  out.push('## Server options (`apps.http.servers.NAME`)', '', '| option | type | default | description |', '|---|---|---|---|', ...optionRows(jsonSchemaOf(serverSchema)), '');
  return `${out.join('\n')}\n`;
}
