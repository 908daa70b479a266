/**
 * The route index with `pattern` routes among `path` routes: pattern routes are narrowed by
 * their literal prefix and only the candidates' matchers run, yet every request must run the same
 * routes, in the same order, with the same `req.params`, as the linear walk of Caddy's model.
 */
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { Registry as MetricsRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FerryRequest, pattern, route, silentLogger, type Handler, type Middleware, type RouteInput } from '../src/index.js';
import { chainRoutes, Provisioner, standardRegistry } from '../src/internal.js';
import type { CompiledRoute } from '../src/route.js';
import { indexRoutes, MIN_INDEXED_RUN } from '../src/route_index.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

/** The route list walked one route at a time: the specification the indexed chain must follow. */
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

// Literal segments that collide in case, share prefixes, or need escaping; groups of each kind.
const literal = fc.constantFrom('a', 'A', 'ab', 'api', 'API', 'v1', 'x.y', 'é', '%C3%A9', 'a%2Fb', 'users', 'Users');
const groupPiece = fc.constantFrom(':id', ':id?', '*', ':n(\\d+)', ':rest+', '{/:opt}?', ':a-:b', '*.:ext');
const patternText = fc
  .array(fc.oneof({ weight: 3, arbitrary: literal }, { weight: 2, arbitrary: groupPiece }), { minLength: 0, maxLength: 3 })
  // Names numbered by segment: a name used twice is a config error.
  .map((segments) => `/${segments.map((s, k) => s.replace(/:([a-z]+)/g, `:$1${k}`)).join('/')}`.replace(/\/\{/g, '{'))
  .filter((p) => p.startsWith('/') && !p.includes('//'));
const pathPattern = fc.oneof(
  fc.array(literal, { maxLength: 3 }).map((s) => `/${s.join('/')}`),
  fc.array(literal, { maxLength: 2 }).map((s) => `/${s.join('/')}*`),
);

/** A route's match: pattern-only, path-only, pattern with a method after it, or something the index leaves alone. */
const match: fc.Arbitrary<RouteInput['match']> = fc.oneof(
  { weight: 8, arbitrary: fc.array(patternText, { minLength: 1, maxLength: 2 }).map((pattern) => [{ pattern }]) },
  { weight: 4, arbitrary: fc.array(pathPattern, { minLength: 1, maxLength: 2 }).map((path) => [{ path }]) },
  { weight: 2, arbitrary: patternText.map((p) => [{ pattern: [p], method: ['GET'] }]) },
  { weight: 1, arbitrary: fc.tuple(patternText, patternText).map(([p, q]) => [{ pattern: [p] }, { pattern: [q], method: ['POST'] }]) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, [{ method: ['POST'] }], [{ path: ['/a/*/b'] }]) },
);

const requestSegment = fc.constantFrom(
  'a',
  'A',
  'ab',
  'api',
  'v1',
  '12',
  'x.y',
  'f.tar.gz',
  'é',
  '%C3%A9',
  '%c3%a9',
  'a%2Fb',
  '%2F',
  'users',
  '..',
  '%2e%2e',
  '',
  'q-r',
);
const requestPath = fc.tuple(fc.array(requestSegment, { maxLength: 4 }), fc.boolean()).map(([s, t]) => `/${s.join('/')}${t ? '/' : ''}`);

interface RouteSpec {
  match: RouteInput['match'];
  group: string | undefined;
  terminal: boolean;
  next: boolean;
  rewrite: string | undefined;
}

const routeSpec: fc.Arbitrary<RouteSpec> = fc.record({
  match,
  group: fc.constantFrom(undefined, undefined, undefined, 'g1', 'g2'),
  terminal: fc.boolean(),
  next: fc.boolean(),
  rewrite: fc.option(requestPath, { freq: 6, nil: undefined }),
});

/** Compiles the routes as a server would; each handler records its number and the params it saw. */
async function compile(specs: readonly RouteSpec[], trace: { seen: string[] }): Promise<CompiledRoute[]> {
  const p = new Provisioner(standardRegistry(), silentLogger(), new MetricsRegistry(), {
    name: 'test',
    enableFullDuplex: false,
    stopping: new AbortController().signal,
  });
  const out: CompiledRoute[] = [];
  for (let i = 0; i < specs.length; i++) {
    const { match, group, terminal, next, rewrite } = specs[i]!;
    const handler: Middleware = (req, res, nx) => {
      trace.seen.push(`${i} ${JSON.stringify(req.params, (_k, v) => (v === undefined ? null : v))}`);
      if (rewrite !== undefined) req.url = rewrite;
      return next ? nx(req, res) : Promise.resolve();
    };
    out.push(await p.compileRoute({ match, handle: [handler], group, terminal }, `routes[${i}]`));
  }
  p.finish();
  return out;
}

const request = (url: string, method: string) =>
  new FerryRequest({ method, url, headers: {} } as IncomingMessage, undefined as never, 'http/1.1', false);

async function choices(chain: Middleware, trace: { seen: string[] }, url: string, method: string): Promise<string[]> {
  trace.seen = [];
  await chain(request(url, method), undefined as never, () => {
    trace.seen.push('end');
    return Promise.resolve();
  });
  return trace.seen;
}

describe('the route index with pattern routes', () => {
  it('runs the same routes with the same params as the linear walk, for random mixes of path and pattern routes', async () => {
    let indexed = 0;
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(routeSpec, { minLength: 1, maxLength: 40, size: 'max' }),
        fc.array(fc.tuple(requestPath, fc.constantFrom('GET', 'POST')), { minLength: 1, maxLength: 8 }),
        async (specs, requests) => {
          const trace = { seen: [] as string[] };
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
      { numRuns: 300, seed: 20261205 },
    );
    expect(indexed / cases).toBeGreaterThan(0.3);
  });

  it('indexes runs of pattern routes, and of patterns followed by other matchers in their set', async () => {
    const specs = (match: (i: number) => RouteInput['match']): RouteSpec[] =>
      Array.from({ length: MIN_INDEXED_RUN }, (_, i) => ({
        match: match(i),
        group: undefined,
        terminal: false,
        next: false,
        rewrite: undefined,
      }));
    const trace = { seen: [] as string[] };
    const all = async (m: (i: number) => RouteInput['match']) => indexRoutes(await compile(specs(m), trace))?.every((x) => x !== undefined);
    expect(await all((i) => [{ pattern: [`/r${i}/:id`] }])).toBe(true);
    expect(await all((i) => [{ pattern: [`/r${i}/:id`], method: ['GET'] }])).toBe(true);
    expect(await all((i) => (i % 2 ? [{ pattern: [`/r${i}/:id`] }] : [{ path: [`/p${i}/*`] }]))).toBe(true);
    // A matcher before the pattern could do anything: such a route is left to its matcher.
    expect(await all((i) => (i === 3 ? [{ method: ['GET'], pattern: ['/x'] }] : [{ pattern: [`/r${i}`] }]))).toBeUndefined();
  });

  it("looks up again, with the new path, after a pattern route's matcher rewrote the target", async () => {
    const run = (dir: string) =>
      Array.from({ length: MIN_INDEXED_RUN }, (_, i) =>
        route(`/${dir}/${i}/:x`, async (req, res) => void res.end(`${dir}${i} ${req.params.x}`)),
      );
    const rewrite = (req: FerryRequest) => {
      req.url = '/b/3/y';
      return false;
    };
    const server = await serve({ routes: [...run('a'), { match: [[pattern('/a/*'), rewrite]], handle: [] }, ...run('b')] });
    expect((await send(server.url, '/a/2/x')).body).toBe('a2 x');
    expect((await send(server.url, '/a/9/x')).body).toBe('b3 y');
  });

  it('serves a thousand pattern routes by their prefix, the first match in order winning', async () => {
    const routes = Array.from({ length: 1000 }, (_, i) =>
      route(`/api/v${i % 10}/res${i}/:id`, async (req, res) => void res.end(`${i}:${req.params.id}`)),
    );
    const server = await serve({ routes: [route('/api/v3/res3/special', async (_q, res) => void res.end('first')), ...routes] });
    expect((await send(server.url, '/api/v3/res3/special')).body).toBe('first');
    expect((await send(server.url, '/api/v3/res3/other')).body).toBe('3:other');
    expect((await send(server.url, '/API/v9/res999/%41')).body).toBe('999:A');
    expect((await send(server.url, '/api/v9/res998/x')).body).toBe('');
  });
});
