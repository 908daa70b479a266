/**
 * Type tests, checked by `tsc -b` (the `typecheck` step of `pnpm test`), never run: `req.params`
 * in a `route(pattern, …)` handler is typed from the pattern string. A wrong assertion here, or an
 * `@ts-expect-error` with nothing to expect, fails the build.
 */
import { expectTypeOf } from 'vitest';
import {
  createServer,
  type FerryRequest,
  type Middleware,
  type PatternParams,
  type RequestParams,
  route,
  type RouteInput,
  staticResponse,
} from '../src/index.js';

// Names: required unless a modifier or an optional group makes them optional.
expectTypeOf<PatternParams<'/users/:id'>>().toEqualTypeOf<{ readonly id: string }>();
expectTypeOf<PatternParams<'/users/:id?'>>().toEqualTypeOf<{ readonly id: string | undefined }>();
expectTypeOf<PatternParams<'/a/:rest*'>>().toEqualTypeOf<{ readonly rest: string | undefined }>();
expectTypeOf<PatternParams<'/a/:rest+'>>().toEqualTypeOf<{ readonly rest: string }>();
expectTypeOf<PatternParams<'/docs{/:page}?'>>().toEqualTypeOf<{ readonly page: string | undefined }>();
expectTypeOf<PatternParams<'/posts/:id(\\d+)'>>().toEqualTypeOf<{ readonly id: string }>();
expectTypeOf<PatternParams<'/posts/:id(\\d+)?/x'>>().toEqualTypeOf<{ readonly id: string | undefined }>();
expectTypeOf<PatternParams<'/org/:org/repo/:repo-:rev'>>().toEqualTypeOf<{
  readonly org: string;
  readonly repo: string;
  readonly rev: string;
}>();
// Wildcards and unnamed regexp groups: numbered in order, as URLPattern numbers them.
expectTypeOf<PatternParams<'/files/*'>>().toEqualTypeOf<{ readonly 0: string }>();
expectTypeOf<PatternParams<'/files/*/x/*?'>>().toEqualTypeOf<{ readonly 0: string; readonly 1: string | undefined }>();
expectTypeOf<PatternParams<'/v/(\\d+)/:name/*.:ext'>>().toEqualTypeOf<{
  readonly 0: string;
  readonly name: string;
  readonly 1: string;
  readonly ext: string;
}>();
expectTypeOf<PatternParams<'/a/(x|(?:y))/*'>>().toEqualTypeOf<{ readonly 0: string; readonly 1: string }>();
// An escaped ":" or "*" is literal text.
expectTypeOf<keyof PatternParams<'/time\\:now/\\*'>>().toEqualTypeOf<never>();
expectTypeOf<keyof PatternParams<'/static'>>().toEqualTypeOf<never>();
// A pattern only known as `string` gives the untyped record.
expectTypeOf<PatternParams<string>>().toEqualTypeOf<RequestParams>();

// In a handler.
const users: RouteInput = route('/users/:id/posts/:post?', async (req, res) => {
  expectTypeOf(req.params.id).toEqualTypeOf<string>();
  expectTypeOf(req.params.post).toEqualTypeOf<string | undefined>();
  // @ts-expect-error: no such param in the pattern
  void req.params.nope;
  // @ts-expect-error: params are read-only
  req.params.id = 'x';
  // The typed request is still a FerryRequest: it goes wherever one is expected.
  expectTypeOf(req).toMatchTypeOf<FerryRequest>();
  res.end(req.params.id.toUpperCase());
});

// The method-first form, a list of methods, and module factories among the handlers.
route('GET', '/files/*', async (req, res) => {
  expectTypeOf(req.params[0]).toEqualTypeOf<string>();
  res.end();
});
route(['PUT', 'PATCH'], '/items/:id', staticResponse({ body: 'ok' }), { handler: 'static_response' });

// An untyped middleware is a fine handler too.
const plain: Middleware = async (_req, _res, next) => next(_req, _res);
route('/x/:y', plain);

// @ts-expect-error: a pattern starts with "/"
route('users/:id', plain);

// Routes made by route() go into createServer's routes with any others.
createServer({ routes: [users, route('/health', staticResponse({ body: 'ok' })), { handle: [plain] }] });

// Outside a route, params are the untyped record.
expectTypeOf<FerryRequest['params']>().toEqualTypeOf<RequestParams>();
