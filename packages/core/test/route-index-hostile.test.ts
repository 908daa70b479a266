import { retainedBytes } from '@ferry/test-kit/memory';
import { describe, expect, it } from 'vitest';
import { pathMatcher, type Matcher, type RouteInput } from '../src/index.js';
import type { CompiledRoute } from '../src/route.js';
import { indexRoutes } from '../src/route_index.js';
import { send, useServers } from './helpers/http.js';

const serve = useServers();

/** 10,000 routes: exact paths and prefixes, every tenth prefix nested in the one before, and a catch-all last. */
function manyRoutes(count: number): RouteInput[] {
  const routes: RouteInput[] = [];
  for (let i = 0; i < count; i++) {
    const path = i % 2 === 0 ? `/route/${i}` : `/deep/${'d/'.repeat(i % 10)}${i}/*`;
    routes.push({ match: [{ path: [path] }], handle: [{ handler: 'static_response', body: `route ${i}` }] });
  }
  routes.push({ handle: [{ handler: 'static_response', body: 'none' }] });
  return routes;
}

describe('the route index under hostile input', () => {
  it('provisions 10,000 path routes within seconds and finds the last one', async () => {
    const started = performance.now();
    const server = await serve({ routes: manyRoutes(10_000) });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect((await send(server.url, '/route/9998')).body).toBe('route 9998');
    expect((await send(server.url, `/deep/${'d/'.repeat(9)}9999/x`)).body).toBe('route 9999');
    expect((await send(server.url, '/ROUTE/./9998')).body).toBe('route 9998');
    expect((await send(server.url, '/route/10000')).body).toBe('none');
  });

  it('answers very long paths of many segments against 10,000 routes in bounded time', async () => {
    const server = await serve({ routes: manyRoutes(10_000) });
    const paths = [
      `/deep/${'d/'.repeat(3_000)}x`, // walks down the tree as far as the deepest prefix
      `/route/${'9'.repeat(8_000)}`, // one long segment
      `/${'a/'.repeat(4_000)}`, // many segments, no route
      `/${'../'.repeat(2_600)}route/9998`, // cleaned back to a route
    ];
    const expected = ['none', 'none', 'none', 'route 9998'];
    const started = performance.now();
    // The linear walk cleaned each path once per route: 10,000 times per request.
    for (let round = 0; round < 25; round++) {
      for (let i = 0; i < paths.length; i++) expect((await send(server.url, paths[i])).body, paths[i]!.slice(0, 20)).toBe(expected[i]);
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('keeps the index of 10,000 routes with long patterns within a few megabytes', async () => {
    // Distinct 200-character patterns that share long prefixes: the worst case for a tree that
    // stores one character per node.
    const stem = 'x'.repeat(180);
    const routes: CompiledRoute[] = Array.from({ length: 10_000 }, (_, i) => ({
      match: pathMatcher.provision([`/${stem}/${i}${i % 2 ? '/*' : ''}`], undefined as never) as Matcher,
      handler: (_q, _s, next) => next(_q, _s),
      terminal: false,
      group: undefined,
    }));
    const before = retainedBytes();
    const index = indexRoutes(routes);
    const used = retainedBytes() - before;
    expect(index?.length).toBe(10_000);
    expect(used).toBeLessThan(8 * 1024 * 1024);
  });
});
