import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import { z } from 'zod';
import type { Template } from './placeholders.js';
import type { Matcher, Middleware } from './types.js';
import type { HandlerInput, MatcherSetInput, RouteInput } from './provision.js';
import type { FerryServices } from './services.js';

/** What a server tells the modules provisioned for it. */
export interface ServerInfo {
  /** The server's name in the config (`srv0`), or `"default"` for code-first servers. */
  readonly name: string;
  /** Whether `enable_full_duplex` is set on the server. */
  readonly enableFullDuplex: boolean;
  /** Aborts when the server begins to stop: long-lived streams end (or start their close delay) on it. */
  readonly stopping: AbortSignal;
}

/** What `provision` gets besides its config. */
export interface ProvisionContext {
  /** A child logger carrying the module's ID. */
  readonly logger: Logger;
  /** The registry this config is provisioned against, for modules that nest modules. */
  readonly registry: Registry;
  /** The prom-client registry the `metrics` handler exposes. */
  readonly metrics: MetricsRegistry;
  /** JSON path of this module's config (`apps.http.servers.srv0.routes[0].handle[1]`). */
  readonly path: string;
  readonly server: ServerInfo;
  /** Runs `fn` on shutdown and reload, after the requests using this module drained. */
  onCleanup(fn: () => void | Promise<void>): void;
  /**
   * A value shared by every module of the app that asks for `key` — every server of one config,
   * and the configs loaded after it: created by `create` the first time `key` is asked for, and
   * disposed (`dispose`) once no module holds it: after the last config using it was replaced and
   * drained, or stopped. For state shared between handlers, and state clients expect to survive a
   * reload (the SSE hub's topics and history, broker connections). Namespace keys by package
   * (`"ferry.sse.hub"`).
   */
  keep<T>(key: string, create: () => T, dispose?: (value: T) => void | Promise<void>): T;
  /**
   * A service the host provides (see FerryServices), such as `ctx.service('metrics.cluster')`;
   * undefined when the host provides none — the module then works on its own process.
   */
  service<Name extends keyof FerryServices>(name: Name): FerryServices[Name] | undefined;
  /**
   * Reports a problem that does not stop the config (printed by `ferry validate` and at start-up),
   * at `path` (a JSON path inside this module's config, such as `${ctx.path}.encodings.zstd`) or else
   * at the module's own.
   */
  warn(message: string, path?: string): void;
  /** Compiles a nested route list (as `subroute` does); problems are reported under `path`. */
  compileRoutes(routes: readonly RouteInput[], path: string): Promise<Middleware>;
  /** Compiles one matcher set (as `not` does); undefined when the set is empty (it matches everything). */
  compileMatcherSet(set: MatcherSetInput, path: string): Promise<Matcher | undefined>;
  /** Compiles a list of handler configs into one middleware; problems are reported under `path`. */
  compileHandlers(handlers: readonly HandlerInput[], path: string): Promise<Middleware>;
  /** Parses a placeholder template, warning about placeholders Ferry does not know. */
  template(text: string, path?: string): Template;
}

export type ModuleKind = 'handler' | 'matcher' | 'other';

/** What `provision` must return, by namespace. */
export type ProvisionResult<Id extends string> = Id extends `http.handlers.${string}`
  ? Middleware
  : Id extends `http.matchers.${string}`
    ? Matcher
    : unknown;

/** What `validate` returns: nothing when the config is fine, else a message or a list of messages. */
// biome-ignore lint/suspicious/noConfusingVoidType: a validate() that returns nothing (void) is the common case and must type-check
export type ValidateResult = void | undefined | string | readonly string[];

export interface ModuleDefinition<Id extends string, S extends z.ZodType> {
  /** A namespaced ID: `http.handlers.NAME` or `http.matchers.NAME`. */
  id: Id;
  /** The one schema for this module's options, shared by config and the code factory. */
  config: S;
  /** One line for `ferry list-modules --verbose` and the generated docs. */
  description?: string;
  /**
   * Checks a schema cannot express. Return a message or a list of messages, or throw, to refuse
   * the config. It may be async (a check that reads a file, say): the loader awaits it before
   * `provision`, and a rejected promise refuses the config with its message.
   */
  validate?(config: z.output<S>): ValidateResult | Promise<ValidateResult>;
  /** Turns validated config into the runtime value: a middleware for handlers, a predicate for matchers. */
  provision(config: z.output<S>, ctx: ProvisionContext): ProvisionResult<Id> | Promise<ProvisionResult<Id>>;
}

export interface FerryModule<Id extends string = string, S extends z.ZodType = z.ZodType> extends ModuleDefinition<Id, S> {
  readonly kind: ModuleKind;
  /** The last segment of the ID: the name used in config (`"handler": "NAME"`, `{"NAME": …}` in a matcher set). */
  readonly name: string;
}

// Any module, whatever its ID and schema; provision's parameter makes the concrete types invariant.
// biome-ignore lint/suspicious/noExplicitAny: a module of any config schema; its own type is checked where it is defined
export type AnyModule = FerryModule<string, any>;

const ID = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Declares a module. The result is a plain object: register it, or export it as a plugin's default. */
export function defineModule<const Id extends string, S extends z.ZodType>(def: ModuleDefinition<Id, S>): FerryModule<Id, S> {
  if (typeof def.id !== 'string' || !ID.test(def.id)) {
    throw new TypeError(`module id "${String(def.id)}" is not a namespaced ID like "http.handlers.greet"`);
  }
  if (!isSchema(def.config)) throw new TypeError(`module ${def.id}: config must be a zod schema`);
  if (typeof def.provision !== 'function') throw new TypeError(`module ${def.id}: provision must be a function`);
  const kind: ModuleKind = def.id.startsWith('http.handlers.') ? 'handler' : def.id.startsWith('http.matchers.') ? 'matcher' : 'other';
  return Object.freeze({ ...def, kind, name: def.id.slice(def.id.lastIndexOf('.') + 1) });
}

/**
 * A zod schema, duck-typed: a plugin may bring its own copy of zod, whose classes are not ours.
 * (Import `z` from @ferry/core to share ours and get strict unknown-option checks for free.)
 */
function isSchema(value: unknown): value is z.ZodType {
  return (
    value instanceof z.ZodType || (typeof value === 'object' && value !== null && typeof (value as z.ZodType).safeParse === 'function')
  );
}

/** Tells a module value apart from anything else a plugin file might export. */
export function isModule(value: unknown): value is AnyModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AnyModule).id === 'string' &&
    typeof (value as AnyModule).provision === 'function' &&
    isSchema((value as AnyModule).config)
  );
}

/** A set of modules by ID. Config is always provisioned against one. */
export class Registry {
  readonly #modules = new Map<string, AnyModule>();

  constructor(modules: Iterable<AnyModule> = []) {
    for (const m of modules) this.register(m);
  }

  /** Adds a module. Registering a different module under a taken ID is an error; the same one again is not. */
  register(mod: AnyModule): this {
    if (!isModule(mod)) throw new TypeError('registerModule: not a module (use defineModule)');
    const existing = this.#modules.get(mod.id);
    if (existing && existing !== mod) throw new Error(`module ${mod.id} is already registered`);
    this.#modules.set(mod.id, mod);
    return this;
  }

  get(id: string): AnyModule | undefined {
    return this.#modules.get(id);
  }

  has(id: string): boolean {
    return this.#modules.has(id);
  }

  /** Every registered ID, sorted. */
  ids(): string[] {
    return [...this.#modules.keys()].sort();
  }

  modules(): AnyModule[] {
    return this.ids().map((id) => this.#modules.get(id)!);
  }

  /** A copy, to extend without touching this one. */
  clone(): Registry {
    return new Registry(this.#modules.values());
  }
}

/** A module with its options, as code passes it in a route (what the factories return). */
export interface ModuleRef {
  readonly [MODULE_REF]: true;
  readonly module: AnyModule;
  /** Options in config form (snake_case), not yet validated. */
  readonly config: unknown;
}

export const MODULE_REF: unique symbol = Symbol.for('ferry.moduleRef');

export function isModuleRef(value: unknown): value is ModuleRef {
  return typeof value === 'object' && value !== null && (value as ModuleRef)[MODULE_REF] === true;
}

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** Config-form (snake_case) options as code writes them (camelCase). Map keys without `_` are unchanged. */
export type Camelize<T> = T extends readonly (infer U)[]
  ? Camelize<U>[]
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof T as K extends string ? CamelCase<K> : K]: Camelize<T[K]> }
      : T;

/** `minimumLength` → `minimum_length`. Keys with a dash or a leading capital (header names) are left alone. */
function snakeKey(key: string): string {
  return /^[a-z][a-zA-Z0-9]*$/.test(key) && /[A-Z]/.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
}

export function snakeize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeize);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  // Code matchers and handlers inside options (a subroute's routes) are passed through as they are.
  if (isModuleRef(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // An own `__proto__` key (from JSON.parse) stays an own key, as in config JSON: assigned, it
    // would become the copy's prototype and its fields inherited options.
    Object.defineProperty(out, snakeKey(k), { value: snakeize(v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * The code front door of a module: `factory(options)` with camelCase options, checked against
 * the module's own schema when the server provisions it.
 */
export function moduleFactory<Id extends string, S extends z.ZodType>(
  mod: FerryModule<Id, S>,
): (options?: Camelize<z.input<S>>) => ModuleRef;
export function moduleFactory<Id extends string, S extends z.ZodType, A extends unknown[]>(
  mod: FerryModule<Id, S>,
  toConfig: (...args: A) => z.input<S>,
): (...args: A) => ModuleRef;
export function moduleFactory(mod: AnyModule, toConfig?: (...args: unknown[]) => unknown) {
  return (...args: unknown[]): ModuleRef => ({
    [MODULE_REF]: true,
    module: mod,
    config: toConfig ? toConfig(...args) : snakeize(args[0] ?? {}),
  });
}
