// Ferry's config for the routes scenario: one route per entry of the table (routes-table.mjs),
// each a `path` matcher (`/route/1`, or `/route/0/*` for a prefix) — or, for the pattern
// variant, a `pattern` matcher with the same text, which URLPattern reads the same way — and a
// `static_response` holding its body. Run directly (`node ferry-routes-config.mjs PORT COUNT
// [path|pattern]`) it prints the config.
import { fileURLToPath } from 'node:url';
import { HOST } from './common.mjs';
import { ROUTE_COUNT, routeTable } from './routes-table.mjs';

/** One HTTP/1.1 server on 127.0.0.1:port with the table's last `count` routes, admin off; `matcher`: `path` or `pattern`. */
export function ferryRoutesConfig(port, count, matcher = 'path') {
  const routes = routeTable(count).map(({ kind, path, body }) => ({
    match: [{ [matcher]: [kind === 'prefix' ? `${path}/*` : path] }],
    handle: [{ handler: 'static_response', body }],
  }));
  return { admin: { disabled: true }, apps: { http: { servers: { bench: { listen: [`${HOST}:${port}`], protocols: ['h1'], routes } } } } };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const count = Number(process.argv[3] ?? ROUTE_COUNT);
  process.stdout.write(`${JSON.stringify(ferryRoutesConfig(port, count, process.argv[4] ?? 'path'), null, 2)}\n`);
}
