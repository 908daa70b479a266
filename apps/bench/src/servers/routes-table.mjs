// The routes scenario's route table, shared by every contender: 1,000 routes, even ones a
// prefix (`/route/0/*`: the path `/route/0/` and everything under it), odd ones an exact path
// (`/route/1`), each answering its own body. The request is for the last route, `/route/999`.
// A single-route server has only that last route, so both answer the same request alike.

export const ROUTE_COUNT = 1000;

/** Route i: `{ kind: 'prefix' | 'exact', path, body }`; `path` is the exact path or the prefix's directory. */
function route(i) {
  return { kind: i % 2 === 0 ? 'prefix' : 'exact', path: `/route/${i}`, body: `route ${i}` };
}

/** The last `count` routes of the table (1: the last route alone; ROUTE_COUNT: all of them), in order. */
export function routeTable(count) {
  const out = [];
  for (let i = ROUTE_COUNT - count; i < ROUTE_COUNT; i++) out.push(route(i));
  return out;
}

/** What the load requests, and what must come back: the last route. */
export const LAST = route(ROUTE_COUNT - 1);

/** A request the first route must answer when all of them are there (its prefix), to show the mix is real. */
export const FIRST_PREFIX = { path: '/route/0/a/b', body: route(0).body };

/** The route count from argv[3]: 1 or ROUTE_COUNT. */
export function countFromArgs() {
  const count = Number(process.argv[3]);
  if (!Number.isInteger(count) || count < 1 || count > ROUTE_COUNT) {
    process.stderr.write(`usage: node ${process.argv[1]} PORT COUNT (1..${ROUTE_COUNT}); got ${JSON.stringify(process.argv[3])}\n`);
    process.exit(2);
  }
  return count;
}
