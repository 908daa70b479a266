import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { Registry as MetricsRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FerryRequest, silentLogger, staticResponse, type Handler, type Middleware, type RouteInput } from '../src/index.js';
import { chainRoutes, Provisioner, standardRegistry } from '../src/internal.js';
import type { CompiledRoute } from '../src/route.js';
import { indexRoutes, MIN_INDEXED_RUN } from '../src/route_index.js';
import { bodyOf, useServers } from './helpers/http.js';

const serve = useServers();

/**
 * The route list walked one route at a time, as chainRoutes did before the index: the
 * specification the indexed chain must follow, choice for choice.
 */
function linearChain(routes: readonly CompiledRoute[]): Middleware {
  const run = (start: number, req: FerryRequest, res: never, next: Handler, groups: Set<string> | undefined): Promise<void> => {
    for (let i = start; i < routes.length; i++) {
      const r = routes[i]!;
      if (r.group !== undefined && groups?.has(r.group)) continue;
      if (r.match !== undefined && !r.match(req)) continue;
      if (r.group !== undefined) (groups ??= new Set()).add(r.group);
      if (r.terminal) return r.handler(req, res, () => Promise.resolve());
      const g = groups;
      return r.handler(req, res, (rq, rs) => run(i + 1, rq, rs as never, next, g));
    }
    return next(req, res);
  };
  return (req, res, next) => run(0, req, res as never, next, undefined);
}

// Segments chosen to collide: case, dot segments, empty segments, characters whose lowercase
// differs in length (İ), and percent-escapes that decode to '.', '/', 'A', 'é' in the request.
const patternSegment = fc.constantFrom('a', 'b', 'A', 'api', 'Api', 'x.y', 'é', 'É', 'İ', 'i̇', '.', '..', '', 'v1');
const requestSegment = fc.constantFrom(
  'a',
  'b',
  'A',
  'B',
  'api',
  'API',
  'x.y',
  '%C3%A9',
  '%C3%89',
  'é',
  'İ',
  '.',
  '..',
  '%2e',
  '%2E%2e',
  '',
  '%41',
  '%2F',
  'v1',
  'a%20b',
);

const pathOf = (segments: readonly string[], trailing: boolean) => `/${segments.join('/')}${trailing && segments.length ? '/' : ''}`;

/** A `path` pattern: mostly the kinds the index takes (exact, trailing `*`), some it must leave to the matcher. */
const pattern = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(fc.array(patternSegment, { maxLength: 3 }), fc.boolean()).map(([s, t]) => pathOf(s, t)) },
  { weight: 12, arbitrary: fc.tuple(fc.array(patternSegment, { maxLength: 3 }), fc.boolean()).map(([s, t]) => `${pathOf(s, t)}*`) },
  { weight: 1, arbitrary: fc.constantFrom('*', '', '/', '/*', '//', '//a*', '/a//b', '*/b', '*.y', '*pi*', '/a/*/b', '/?', '/a?*', '/*/') },
);

/** A route's `match`: path-only (indexable unless a pattern is not), or something the index must leave alone. */
const match: fc.Arbitrary<RouteInput['match']> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.array(
      fc.array(pattern, { maxLength: 2 }).map((path) => ({ path })),
      { minLength: 1, maxLength: 2 },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(undefined),
      fc.constant([{}]),
      fc.constant([{ method: ['POST'] }]),
      pattern.map((p) => [{ path: [p], method: ['GET'] }]),
      pattern.map((p) => [{ not: [{ path: [p] }] }]),
      pattern.map((p) => [{ path: [p] }, { method: ['POST'] }]),
      pattern.map((p) => [{ path: [p] }, {}]),
    ),
  },
);

interface RouteSpec {
  match: RouteInput['match'];
  group: string | undefined;
  terminal: boolean;
  /** What the route's handler does: stop, continue, or rewrite the path and continue. */
  after: { next: boolean; rewrite: string | undefined };
}

const requestPath = fc
  .tuple(fc.array(requestSegment, { maxLength: 4 }), fc.boolean(), fc.boolean())
  .map(([s, trailing, slashes]) => (slashes ? `/${pathOf(s, trailing)}` : pathOf(s, trailing)));

const routeSpec: fc.Arbitrary<RouteSpec> = fc.record({
  match,
  group: fc.constantFrom(undefined, undefined, 'g1', 'g2'),
  terminal: fc.boolean(),
  after: fc.record({ next: fc.boolean(), rewrite: fc.option(requestPath, { freq: 4, nil: undefined }) }),
});

/** Compiles the routes as a server would; each handler adds its route number to `trace.seen`. */
async function compile(specs: readonly RouteSpec[], trace: { seen: (number | string)[] }): Promise<CompiledRoute[]> {
  const p = new Provisioner(standardRegistry(), silentLogger(), new MetricsRegistry(), {
    name: 'test',
    enableFullDuplex: false,
    stopping: new AbortController().signal,
  });
  const out: CompiledRoute[] = [];
  for (let i = 0; i < specs.length; i++) {
    const { match, group, terminal, after } = specs[i]!;
    const handler: Middleware = (req, res, next) => {
      trace.seen.push(i);
      if (after.rewrite !== undefined) req.url = after.rewrite;
      return after.next ? next(req, res) : Promise.resolve();
    };
    out.push(await p.compileRoute({ match, handle: [handler], group, terminal }, `routes.${i}`));
  }
  p.finish();
  return out;
}

const request = (url: string, method: string) =>
  new FerryRequest({ method, url, headers: {} } as IncomingMessage, undefined as never, 'http/1.1', false);

/** The route numbers `chain` runs for the request, in order, then 'end' when the list was left. */
async function choices(chain: Middleware, trace: { seen: (number | string)[] }, url: string, method: string) {
  trace.seen = [];
  await chain(request(url, method), undefined as never, () => {
    trace.seen.push('end');
    return Promise.resolve();
  });
  return trace.seen;
}

describe('the route index', () => {
  it('runs exactly the routes the linear walk runs, in the same order, for random route lists and paths', async () => {
    let indexed = 0;
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(routeSpec, { maxLength: 48, size: 'max' }),
        fc.array(fc.tuple(requestPath, fc.constantFrom('GET', 'POST')), { minLength: 1, maxLength: 8 }),
        async (specs, requests) => {
          const trace = { seen: [] as (number | string)[] };
          const routes = await compile(specs, trace);
          cases++;
          if (indexRoutes(routes) !== undefined) indexed++;
          const fast = chainRoutes(routes);
          const slow = linearChain(routes);
          for (const [url, method] of requests) {
            expect(await choices(fast, trace, url, method), `${method} ${url}`).toEqual(await choices(slow, trace, url, method));
          }
        },
      ),
      { numRuns: 400, seed: 20261205 },
    );
    // The property says nothing unless many of the lists were indexed.
    expect(indexed / cases).toBeGreaterThan(0.3);
  });

  it('gives the same first match among hundreds of overlapping exact and prefix routes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(pattern, { minLength: 1, maxLength: 2 }), { minLength: 100, maxLength: 300 }),
        fc.array(requestPath, { minLength: 1, maxLength: 20 }),
        async (patternLists, paths) => {
          const specs = patternLists.map((path, i) => ({
            match: [{ path }],
            group: i % 7 === 0 ? 'g' : undefined,
            terminal: false,
            after: { next: i % 3 === 0, rewrite: undefined },
          }));
          const trace = { seen: [] as (number | string)[] };
          const routes = await compile(specs, trace);
          const fast = chainRoutes(routes);
          const slow = linearChain(routes);
          for (const url of paths) expect(await choices(fast, trace, url, 'GET'), url).toEqual(await choices(slow, trace, url, 'GET'));
        },
      ),
      { numRuns: 60, seed: 20261205 },
    );
  });

  it('indexes a run of path-only routes with exact and trailing-star patterns, and nothing shorter', async () => {
    const trace = { seen: [] as (number | string)[] };
    const only = (path: string[]): RouteSpec => ({
      match: [{ path }],
      group: undefined,
      terminal: false,
      after: { next: false, rewrite: undefined },
    });
    const run = Array.from({ length: MIN_INDEXED_RUN }, (_, i) => only([`/r/${i}`, `/p/${i}/*`]));
    const indexed = indexRoutes(await compile(run, trace));
    expect(indexed?.every((index) => index !== undefined)).toBe(true);
    expect(indexRoutes(await compile(run.slice(1), trace))).toBeUndefined();
    // A glob, a suffix or a '//' pattern in one route splits the run there.
    for (const odd of ['/a/*/b', '*.js', '//a']) {
      const split = [...run.slice(0, 4), only([odd]), ...run.slice(4)];
      expect(indexRoutes(await compile(split, trace)), odd).toBeUndefined();
    }
  });

  it('looks the path up as it is when the lookup happens, after a matcher before it rewrote it', async () => {
    const run = (dir: string) =>
      Array.from({ length: MIN_INDEXED_RUN }, (_, i) => ({
        match: [{ path: [`/${dir}/${i}`] }],
        handle: [staticResponse({ body: `${dir}${i}` })],
      }));
    const rewrite = (req: FerryRequest) => {
      req.url = '/b/3';
      return false;
    };
    const server = await serve({ routes: [...run('a'), { match: [rewrite], handle: [] }, ...run('b')] });
    expect(await bodyOf(server.url, '/a/2')).toBe('a2');
    expect(await bodyOf(server.url, '/a/9')).toBe('b3');
  });
});
