import { method as methodFactory } from './match/method.js';
import { pattern as patternFactory } from './match/pattern.js';
import type { ModuleRef } from './module.js';
import type { HandlerInput, MatcherInput, RouteInput } from './provision.js';
import type { FerryRequest, RequestParams } from './request.js';
import type { Handler, ResponseWriter } from './types.js';

/**
 * `route('/users/:id', handler)`: a route matched by one URLPattern pathname pattern, whose
 * handlers see `req.params` typed from the pattern string. The types below read the pattern as
 * the `pattern` matcher's parser does (match/pattern_syntax.ts), closely enough for names.
 */

/** ASCII characters that end a parameter name (those that are not identifier characters). */
type NameEnd =
  | ' '
  | '!'
  | '"'
  | '#'
  | '%'
  | '&'
  | "'"
  | '('
  | ')'
  | '*'
  | '+'
  | ','
  | '-'
  | '.'
  | '/'
  | ':'
  | ';'
  | '<'
  | '='
  | '>'
  | '?'
  | '@'
  | '['
  | '\\'
  | ']'
  | '^'
  | '`'
  | '{'
  | '|'
  | '}'
  | '~';

/** `[name, rest]`: the parameter name at the start of `S`. */
type TakeName<S extends string, N extends string = ''> = S extends `${infer C}${infer R}`
  ? C extends NameEnd
    ? [N, S]
    : TakeName<R, `${N}${C}`>
  : [N, S];

/** What follows a regexp group whose `(` was just read; nested `(?:…)` and `\)` are skipped. */
type SkipRegexp<S extends string, Depth extends unknown[] = []> = S extends `\\${string}`
  ? S extends `\\${infer _E}${infer R}`
    ? SkipRegexp<R, Depth>
    : ''
  : S extends `)${infer R}`
    ? Depth extends [unknown, ...infer D]
      ? SkipRegexp<R, D>
      : R
    : S extends `(${infer R}`
      ? SkipRegexp<R, [...Depth, unknown]>
      : S extends `${infer _C}${infer R}`
        ? SkipRegexp<R, Depth>
        : '';

/** `S` after an optional regexp group. */
type AfterRegexp<S extends string> = S extends `(${infer R}` ? SkipRegexp<R> : S;

/** Whether the modifier at the start of `S` makes a group optional, and what follows it. */
type Modifier<S extends string> = S extends `?${infer R}`
  ? [true, R]
  : S extends `*${infer R}`
    ? [true, R]
    : S extends `+${infer R}`
      ? [false, R]
      : [false, S];

/** A group's key — a name, or the next number — and the counter after it: `[key, count]`. */
type GroupKey<S extends string, N extends unknown[]> = S extends `${infer C}${infer R}`
  ? C extends '\\'
    ? R extends `${infer _E}${infer R2}`
      ? GroupKey<R2, N>
      : [never, N]
    : C extends ':'
      ? [TakeName<R>[0], N]
      : C extends '*' | '('
        ? [`${N['length']}`, [...N, unknown]]
        : GroupKey<R, N>
  : [never, N];

/** Adds `key` to the required or optional names, then walks on. */
type Add<Rest extends string, Key extends string, Optional extends boolean, Req extends string, Opt extends string, N extends unknown[]> = [
  Key,
] extends [never]
  ? Walk<Rest, Req, Opt, N>
  : Optional extends true
    ? Walk<Rest, Req, Opt | Key, N>
    : Walk<Rest, Req | Key, Opt, N>;

/** An unnamed group (`*`, `(…)`) ends before `S`: it takes the next number. */
type Numbered<S extends string, Req extends string, Opt extends string, N extends unknown[]> =
  Modifier<S> extends [infer O extends boolean, infer Rest extends string]
    ? Add<Rest, `${N['length']}`, O, Req, Opt, [...N, unknown]>
    : never;

/** Walks a pattern, collecting `[required names, optional names]`. */
type Walk<S extends string, Req extends string = never, Opt extends string = never, N extends unknown[] = []> = S extends `\\${infer R}`
  ? R extends `${infer _E}${infer R2}`
    ? Walk<R2, Req, Opt, N>
    : [Req, Opt]
  : S extends `:${infer R}`
    ? TakeName<R> extends [infer Name extends string, infer After extends string]
      ? Modifier<AfterRegexp<After>> extends [infer O extends boolean, infer Rest extends string]
        ? Add<Rest, Name, O, Req, Opt, N>
        : never
      : never
    : S extends `*${infer R}`
      ? Numbered<R, Req, Opt, N>
      : S extends `(${string}`
        ? Numbered<AfterRegexp<S>, Req, Opt, N>
        : S extends `{${infer Inside}}${infer R}`
          ? GroupKey<Inside, N> extends [infer Key extends string, infer N2 extends unknown[]]
            ? Modifier<R> extends [infer O extends boolean, infer Rest extends string]
              ? Add<Rest, Key, O, Req, Opt, N2>
              : never
            : never
          : S extends `${infer _C}${infer R}`
            ? Walk<R, Req, Opt, N>
            : [Req, Opt];

/**
 * The params a pattern gives, by name: `/users/:id` → `{ id: string }`; optional ones (`:id?`,
 * `{/:x}?`, `:x*`) are `string | undefined`; `*` and unnamed `(…)` groups are `0`, `1`, … in order.
 */
export type PatternParams<P extends string> = string extends P
  ? RequestParams
  : Walk<P> extends [infer Req extends string, infer Opt extends string]
    ? { readonly [K in Req | Opt]: K extends Req ? string : string | undefined }
    : RequestParams;

/** The request a `route(pattern, …)` handler gets: `req.params` typed from the pattern. */
export type TypedRequest<P extends string> = FerryRequest<PatternParams<P>>;

/** A handler of a `route(pattern, …)`: a middleware whose `req.params` is typed from the pattern. */
export type RouteHandler<P extends string> = (req: TypedRequest<P>, res: ResponseWriter, next: Handler) => Promise<void>;

/** What a route's handle list may hold: typed handlers, module factories' results, config JSON. */
type RouteHandleInput<P extends string> = RouteHandler<P> | ModuleRef | { readonly handler: string; readonly [option: string]: unknown };

/**
 * A route for `createServer`'s `routes`: runs `handle` when the path matches `pattern` (URLPattern
 * pathname syntax, as the `pattern` matcher), with `req.params` typed from it. With `method`
 * first (`route('GET', '/users/:id', h)`, or a list of methods), the method must match too.
 * Like any route, a handler that calls `next` goes on to the routes after it.
 */
export function route<const P extends `/${string}`>(pattern: P, ...handle: RouteHandleInput<P>[]): RouteInput;
export function route<const P extends `/${string}`>(
  method: string | readonly string[],
  pattern: P,
  ...handle: RouteHandleInput<P>[]
): RouteInput;
export function route(first: string | readonly string[], ...rest: unknown[]): RouteInput {
  const withMethod = typeof rest[0] === 'string';
  const path = (withMethod ? rest[0] : first) as string;
  const handle = (withMethod ? rest.slice(1) : rest) as HandlerInput[];
  // The pattern first: the route index narrows routes by it, and nothing runs before it.
  const set: MatcherInput[] = [patternFactory(path)];
  if (withMethod) set.push(methodFactory(...(typeof first === 'string' ? [first] : first)));
  return { match: [set], handle };
}
