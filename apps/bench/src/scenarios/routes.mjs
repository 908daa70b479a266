// routes: the cost of finding a route among many. Each framework serves the same request,
// GET /route/999, once with that route alone and once as the last of 1,000 routes (half exact
// paths, half prefixes: servers/routes-table.mjs). The figure is each framework's 1,000-route
// rate over its own single-route rate, measured in the same run.
import { join } from 'node:path';
import { bodyProblems, fetchOnce, headerSummary, wrongAnswer } from '../http-check.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { serversDir, versionOf } from '../launchers/node.mjs';
import { ferryRoutesConfig } from '../servers/ferry-routes-config.mjs';
import { FIRST_PREFIX, LAST, ROUTE_COUNT } from '../servers/routes-table.mjs';
import { driveWrk } from '../wrk.mjs';

const many = ROUTE_COUNT.toLocaleString('en-US');

/**
 * The last route must answer with exactly its body; with every route there, the first one (a
 * prefix) must answer a path under it, so that a server holding fewer routes is refused.
 */
async function verify({ contender, server }) {
  const checks = [LAST, ...(contender.routes === ROUTE_COUNT ? [FIRST_PREFIX] : [])];
  let first;
  for (const { path, body } of checks) {
    const res = await fetchOnce(`${server.url}${path}`);
    const problems = bodyProblems(res, body);
    if (problems.length) throw wrongAnswer(contender.id, `GET ${path}`, problems);
    first ??= res;
  }
  return { summary: headerSummary(first) };
}

/** A Node server file of src/servers/ given its port and the route count. */
const withRoutes = (file, count) => (port, ctx) => ({
  command: ctx.node,
  args: [join(serversDir, file), String(port), String(count)],
  env: {},
});

const routeWord = (count) => (count === 1 ? '1 route' : `${count.toLocaleString('en-US')} routes`);

const ferry = (count) => ({
  ...ferryContender({ id: `ferry-${count}`, what: routeWord(count), config: (port) => ferryRoutesConfig(port, count) }),
  routes: count,
});

/** The same table with `pattern` matchers (URLPattern syntax): its route index narrows them by literal prefix. */
const ferryPattern = (count) => ({
  ...ferryContender({
    id: `ferry-pattern-${count}`,
    what: `${routeWord(count)}, pattern matcher`,
    config: (port) => ferryRoutesConfig(port, count, 'pattern'),
  }),
  routes: count,
});

const fastify = (count) => ({
  id: `fastify-${count}`,
  label: `fastify ${versionOf('fastify')}, ${routeWord(count)}`,
  start: withRoutes('fastify-routes.mjs', count),
  routes: count,
});

const hono = (count) => ({
  id: `hono-${count}`,
  label: `hono ${versionOf('hono')} + @hono/node-server ${versionOf('@hono/node-server')}, ${routeWord(count)}`,
  start: withRoutes('hono-routes.mjs', count),
  routes: count,
});

export const routes = {
  id: 'routes',
  title: `GET ${LAST.path}: the last of ${many} routes vs a single route`,
  summary: `route lookup: the last of ${many} path routes (half exact, half prefix) vs that route alone`,
  unit: 'req/s',
  baseline: 'ferry-1',
  baselineLabel: 'ferry, 1 route',
  pinned: true,
  threads: 1,
  cases: [{ id: 'routes', path: LAST.path }],
  verify,
  drive: driveWrk,
  contenders: [
    ferry(1),
    ferry(ROUTE_COUNT),
    ferryPattern(1),
    ferryPattern(ROUTE_COUNT),
    fastify(1),
    fastify(ROUTE_COUNT),
    hono(1),
    hono(ROUTE_COUNT),
  ],
  ratios: [
    [`ferry-${ROUTE_COUNT}`, 'ferry-1', `ferry ${many} routes / ferry 1 route`],
    [`fastify-${ROUTE_COUNT}`, 'fastify-1', `fastify ${many} routes / fastify 1 route`],
    [`hono-${ROUTE_COUNT}`, 'hono-1', `hono ${many} routes / hono 1 route`],
    [`ferry-${ROUTE_COUNT}`, `fastify-${ROUTE_COUNT}`, `ferry ${many} routes / fastify ${many} routes`],
    [`ferry-pattern-${ROUTE_COUNT}`, 'ferry-pattern-1', `ferry pattern ${many} routes / ferry pattern 1 route`],
    [`ferry-pattern-${ROUTE_COUNT}`, `ferry-${ROUTE_COUNT}`, `ferry pattern ${many} routes / ferry path ${many} routes`],
  ],
};
