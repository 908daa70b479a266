import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import { z } from 'zod';
import { KeptState } from './kept.js';
import { ConfigError, joinPath, type ConfigIssue } from './errors.js';
import { isModuleRef, type AnyModule, type ModuleRef, type ProvisionContext, type Registry, type ServerInfo } from './module.js';
import { compileTemplate, type Template } from './placeholders.js';
import type { Services } from './services.js';
import { chainRoutes, compose, matchAll, matchAny, type CompiledRoute } from './route.js';
import { keysAt } from './schema_keys.js';
import type { Matcher, Middleware } from './types.js';
import { unknownModuleMessage, unknownOptionMessage, unknownRouteFieldMessage } from './unknown_names.js';

/** A handler in a route: a middleware function, a module factory's result, or config JSON (`{"handler": "NAME", …}`). */
export type HandlerInput = Middleware | ModuleRef | { readonly handler: string; readonly [option: string]: unknown };

/** One matcher in code: a predicate or a matcher factory's result. */
export type MatcherInput = Matcher | ModuleRef;

/**
 * A matcher set (its matchers are AND'ed): config JSON (`{"path": ["/a/*"], "method": ["GET"]}`),
 * one matcher, or an array of matchers.
 */
export type MatcherSetInput = MatcherInput | readonly MatcherInput[] | { readonly [matcher: string]: unknown };

/** A route as config or code gives it. The sets in `match` are OR'ed. */
export interface RouteInput {
  readonly match?: readonly MatcherSetInput[];
  readonly handle?: readonly HandlerInput[];
  readonly terminal?: boolean;
  readonly group?: string;
}

function pathOf(segments: readonly PropertyKey[]): (string | number)[] {
  return segments.map((s) => (typeof s === 'symbol' ? String(s.description) : s));
}

/** What a zod schema validated, for messages about its unknown options. */
export interface SchemaSubject {
  /** The schema whose issues these are: its known option names make the "did you mean". */
  readonly schema: unknown;
  /** A module ID, or `config` / `server` for the config's own objects (caddy_names.ts). */
  readonly scope: string;
  /** Named in messages as the options' owner (a module ID). */
  readonly owner?: string;
}

/**
 * Maps zod issues to Ferry's JSON-path issues. An unknown option is named by its own path, and
 * said to be a Caddy option Ferry lacks, a likely typo of a known one, or unknown (unknown_names.ts).
 */
export function zodIssues(error: z.ZodError, base: string, subject?: SchemaSubject): ConfigIssue[] {
  return issuesAt(error.issues, base, [], subject);
}

function issuesAt(
  issues: readonly z.core.$ZodIssue[],
  base: string,
  prefix: readonly (string | number)[],
  subject: SchemaSubject | undefined,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of issues) {
    const at = pathOf(iss.path);
    if (iss.code === 'unrecognized_keys') {
      const { keys: known, location } = subject ? keysAt(subject.schema, [...prefix, ...at]) : { keys: undefined, location: '' };
      const place = { scope: subject?.scope ?? '', location, owner: subject?.owner, known };
      for (const key of iss.keys) out.push({ path: joinPath(base, ...at, key), message: unknownOptionMessage(key, place) });
    } else if (iss.code === 'invalid_key' && iss.issues.length > 0) {
      // A record's key refused (a field name): its own issues say why, at the key's path.
      out.push(...issuesAt(iss.issues, joinPath(base, ...at), [...prefix, ...at], subject));
    } else if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      // A union's branches each explain themselves; the first branch's issues are the useful ones.
      out.push(...issuesAt(iss.errors[0]!, joinPath(base, ...at), [...prefix, ...at], subject));
    } else {
      out.push({ path: joinPath(base, ...at), message: iss.message });
    }
  }
  return out;
}

/**
 * The messages a module's `validate` returned. Anything but nothing, a string or a list of
 * strings is a mistake in the module (a boolean, an object), reported as such rather than taken
 * for a pass.
 */
function validateMessages(id: string, result: unknown): string[] {
  if (result === undefined || result === null) return [];
  if (typeof result === 'string') return [result];
  if (Array.isArray(result) && result.every((m) => typeof m === 'string')) return result as string[];
  const got = Array.isArray(result) ? 'a list with something other than strings' : typeof result;
  return [`module ${id}: validate() must return nothing, a message or a list of messages (it returned ${got})`];
}

function strictSchema(schema: z.ZodType): z.ZodType {
  // Unknown options are errors, never silently ignored (the compatibility promise).
  return schema instanceof z.ZodObject ? schema.strict() : schema;
}

/**
 * The one compiler behind both front doors: config JSON and code-first routes become the same
 * compiled chain. Problems are collected, each with its JSON path, so a bad config reports them
 * all at once; `finish()` throws them as one `ConfigError`.
 */
export class Provisioner {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  readonly cleanups: (() => void | Promise<void>)[] = [];

  constructor(
    readonly registry: Registry,
    readonly logger: Logger,
    readonly metrics: MetricsRegistry,
    readonly server: ServerInfo,
    /** What the host provides to modules (`ctx.service`). */
    readonly services: Services = {},
    readonly kept: KeptState = new KeptState(),
  ) {}

  issue(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }

  /** Throws every problem found so far as one ConfigError. */
  finish(): void {
    if (this.issues.length > 0) throw new ConfigError(this.issues);
  }

  template(text: string, path = ''): Template {
    const t = compileTemplate(text);
    for (const key of t.unknown) this.warn(path, `unknown placeholder {${key}} is left as written`);
    return t;
  }

  context(mod: AnyModule, path: string): ProvisionContext {
    return {
      logger: this.logger.child({ module: mod.id }),
      registry: this.registry,
      metrics: this.metrics,
      path,
      server: this.server,
      onCleanup: (fn) => void this.cleanups.push(fn),
      warn: (message, p) => this.warn(p ?? path, message),
      keep: <T>(key: string, create: () => T, dispose?: (value: T) => void | Promise<void>): T => {
        const { value, release } = this.kept.acquire(key, create, dispose);
        this.cleanups.push(release);
        return value;
      },
      service: (name) => this.services[name],
      compileRoutes: (routes, p) => this.compileRoutes(routes, p),
      compileHandlers: (handlers, p) => this.compileHandlers(handlers, p),
      compileMatcherSet: (set, p) => this.compileMatcherSet(set, p),
      template: (text, p) => this.template(text, p ?? path),
    };
  }

  /** Validates `raw` against the module's schema and provisions it; undefined (and an issue) when it cannot. */
  async provision(mod: AnyModule, raw: unknown, path: string): Promise<unknown> {
    const parsed = strictSchema(mod.config).safeParse(raw);
    if (!parsed.success) {
      this.issues.push(...zodIssues(parsed.error, path, { schema: mod.config, scope: mod.id, owner: mod.id }));
      return undefined;
    }
    try {
      // Awaited: an async validate() is as binding as a sync one (a bad config must not pass).
      const list = validateMessages(mod.id, await mod.validate?.(parsed.data));
      if (list.length > 0) {
        for (const message of list) this.issue(path, message);
        return undefined;
      }
      const value = await mod.provision(parsed.data, this.context(mod, path));
      const want = mod.kind === 'handler' || mod.kind === 'matcher';
      if (want && typeof value !== 'function') {
        this.issue(path, `module ${mod.id}: provision must return a ${mod.kind === 'handler' ? 'middleware' : 'matcher'} function`);
        return undefined;
      }
      return value;
    } catch (err) {
      if (err instanceof ConfigError) this.issues.push(...err.issues);
      else this.issue(path, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  async compileHandler(input: HandlerInput, path: string): Promise<Middleware | undefined> {
    if (typeof input === 'function') return input;
    if (isModuleRef(input)) {
      if (input.module.kind !== 'handler') {
        this.issue(path, `${input.module.id} is not a handler module`);
        return undefined;
      }
      return (await this.provision(input.module, input.config, path)) as Middleware | undefined;
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      this.issue(path, 'expected a handler object with a "handler" field');
      return undefined;
    }
    const { handler, ...options } = input as { handler?: unknown };
    if (typeof handler !== 'string') {
      this.issue(joinPath(path, 'handler'), 'missing "handler": the name of a handler module');
      return undefined;
    }
    const mod = this.registry.get(`http.handlers.${handler}`);
    if (!mod) {
      this.issue(joinPath(path, 'handler'), unknownModuleMessage('handler', handler, this.registry));
      return undefined;
    }
    return (await this.provision(mod, options, path)) as Middleware | undefined;
  }

  async compileHandlers(list: readonly HandlerInput[], path: string): Promise<Middleware> {
    const out: Middleware[] = [];
    for (let i = 0; i < list.length; i++) {
      const h = await this.compileHandler(list[i]!, joinPath(path, i));
      if (h) out.push(h);
    }
    return compose(out);
  }

  async compileMatcher(input: unknown, path: string): Promise<Matcher | undefined> {
    if (typeof input === 'function') return input as Matcher;
    if (isModuleRef(input)) {
      if (input.module.kind !== 'matcher') {
        this.issue(path, `${input.module.id} is not a matcher module`);
        return undefined;
      }
      return (await this.provision(input.module, input.config, path)) as Matcher | undefined;
    }
    this.issue(path, 'expected a matcher');
    return undefined;
  }

  /** One matcher set; undefined means it matches every request (an empty set, as in Caddy). */
  async compileMatcherSet(set: MatcherSetInput, path: string): Promise<Matcher | undefined> {
    const matchers: Matcher[] = [];
    if (typeof set === 'function' || isModuleRef(set)) {
      const m = await this.compileMatcher(set, path);
      if (m) matchers.push(m);
    } else if (Array.isArray(set)) {
      for (let i = 0; i < set.length; i++) {
        const m = await this.compileMatcher(set[i], joinPath(path, i));
        if (m) matchers.push(m);
      }
    } else if (typeof set === 'object' && set !== null) {
      for (const [name, config] of Object.entries(set)) {
        const mod = this.registry.get(`http.matchers.${name}`);
        const at = joinPath(path, name);
        if (!mod) {
          this.issue(at, unknownModuleMessage('matcher', name, this.registry));
          continue;
        }
        const m = (await this.provision(mod, config, at)) as Matcher | undefined;
        if (m) matchers.push(m);
      }
    } else {
      this.issue(path, 'expected a matcher set object');
    }
    return matchers.length === 0 ? undefined : matchAll(matchers);
  }

  async compileRoute(route: RouteInput, path: string): Promise<CompiledRoute> {
    if (typeof route !== 'object' || route === null) {
      this.issue(path, 'expected a route object');
      return { match: undefined, handler: (_q, _s, next) => next(_q, _s), terminal: false, group: undefined };
    }
    for (const key of Object.keys(route)) {
      if (!['match', 'handle', 'terminal', 'group'].includes(key)) this.issue(joinPath(path, key), unknownRouteFieldMessage(key));
    }
    const sets: Matcher[] = [];
    let always = false;
    const match = route.match ?? [];
    if (!Array.isArray(match)) this.issue(joinPath(path, 'match'), 'expected a list of matcher sets');
    else
      for (let i = 0; i < match.length; i++) {
        const m = await this.compileMatcherSet(match[i]!, joinPath(path, 'match', i));
        if (m) sets.push(m);
        else always = true;
      }
    const handle = route.handle ?? [];
    let handler: Middleware = (q, s, next) => next(q, s);
    if (!Array.isArray(handle)) this.issue(joinPath(path, 'handle'), 'expected a list of handlers');
    else handler = await this.compileHandlers(handle, joinPath(path, 'handle'));
    if (route.terminal !== undefined && typeof route.terminal !== 'boolean') this.issue(joinPath(path, 'terminal'), 'expected a boolean');
    if (route.group !== undefined && typeof route.group !== 'string') this.issue(joinPath(path, 'group'), 'expected a string');
    return {
      match: always ? undefined : matchAny(sets),
      handler,
      terminal: route.terminal === true,
      group: typeof route.group === 'string' && route.group !== '' ? route.group : undefined,
    };
  }

  async compileRoutes(routes: readonly RouteInput[], path: string): Promise<Middleware> {
    if (!Array.isArray(routes)) {
      this.issue(path, 'expected a list of routes');
      return (q, s, next) => next(q, s);
    }
    const compiled: CompiledRoute[] = [];
    for (let i = 0; i < routes.length; i++) compiled.push(await this.compileRoute(routes[i]!, joinPath(path, i)));
    return chainRoutes(compiled);
  }

  /** Runs the cleanups registered by every module provisioned here, in reverse order. */
  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        this.logger.error({ err }, 'module cleanup failed');
      }
    }
  }
}
