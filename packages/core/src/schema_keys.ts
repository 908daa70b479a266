/**
 * The option names a zod schema accepts at a path inside it, read from the schema itself, for the
 * "did you mean" of an unknown option. Zod's `unrecognized_keys` issue names the unknown keys but
 * not the known ones; the schema has them.
 *
 * Schemas are read through zod 4's `_zod.def` by duck typing: a plugin's module may bring its own
 * copy of zod. A schema that cannot be read (another zod major, a custom type) gives no names,
 * and the message then has no suggestion — never a wrong one.
 */

interface Def {
  readonly type?: string;
  readonly shape?: Readonly<Record<string, unknown>>;
  readonly element?: unknown;
  readonly valueType?: unknown;
  readonly innerType?: unknown;
  readonly in?: unknown;
  readonly options?: readonly unknown[];
  readonly left?: unknown;
  readonly right?: unknown;
  readonly getter?: () => unknown;
}

function defOf(schema: unknown): Def | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const zod = (schema as { _zod?: { def?: unknown } })._zod;
  const def = zod?.def;
  return typeof def === 'object' && def !== null ? (def as Def) : undefined;
}

/** Wrappers that accept what their inner schema does. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'success']);

/** A walk through `lazy` schemas could cycle: this many unwrappings per step are plenty for real schemas. */
const MAX_UNWRAP = 32;

/** The object, array and record schemas that `schema` is, through wrappers, pipes, unions and intersections. */
function shapesOf(schema: unknown): Def[] {
  const out: Def[] = [];
  const todo: unknown[] = [schema];
  for (let n = 0; todo.length > 0 && n < MAX_UNWRAP; n++) {
    const def = defOf(todo.shift());
    if (!def) continue;
    if (def.type && WRAPPERS.has(def.type)) todo.push(def.innerType);
    else if (def.type === 'pipe') todo.push(def.in);
    else if (def.type === 'lazy' && typeof def.getter === 'function') todo.push(def.getter());
    else if (def.type === 'union' && Array.isArray(def.options)) todo.push(...def.options);
    else if (def.type === 'intersection') todo.push(def.left, def.right);
    else if (def.type === 'object' || def.type === 'array' || def.type === 'record') out.push(def);
  }
  return out;
}

/** What a schema says about the object at a path inside it. */
export interface KeysAt {
  /** The option names the object accepts; undefined when no object was found there (a schema that could not be read). */
  readonly keys: readonly string[] | undefined;
  /**
   * Where the object is, schema-relative: option names joined with `.`, `[]` for an array's
   * element and `*` for a map's value (`health_checks.active`, `upstreams[]`, `*`); '' at the top.
   */
  readonly location: string;
}

/**
 * The option names of the object found at `path` (as a zod issue gives it) inside `schema`, and
 * where that object is. A union contributes the names of all its object branches.
 */
export function keysAt(schema: unknown, path: readonly (string | number)[]): KeysAt {
  let current = [schema];
  let location = '';
  for (const seg of path) {
    const next: unknown[] = [];
    let step: string | undefined;
    for (const def of current.flatMap(shapesOf)) {
      if (def.type === 'object' && typeof seg === 'string' && def.shape && Object.hasOwn(def.shape, seg)) {
        next.push(def.shape[seg]);
        step ??= location ? `.${seg}` : seg;
      } else if (def.type === 'array' && typeof seg === 'number') {
        next.push(def.element);
        step ??= '[]';
      } else if (def.type === 'record') {
        next.push(def.valueType);
        step ??= location ? '.*' : '*';
      }
    }
    if (step === undefined) return { keys: undefined, location: '' };
    location += step;
    current = next;
  }
  const objects = current.flatMap(shapesOf).filter((def) => def.type === 'object' && def.shape);
  if (objects.length === 0) return { keys: undefined, location };
  const keys = new Set<string>();
  for (const def of objects) for (const k of Object.keys(def.shape!)) keys.add(k);
  return { keys: [...keys], location };
}
