// Ferry is benchmarked as operators run it: the real `ferry run` CLI with this Caddy-style config.
// Run directly (`node ferry-config.mjs PORT`) it prints the config, to try by hand.
import { fileURLToPath } from 'node:url';
import { BODY, HOST } from './common.mjs';

/**
 * One route with a path matcher and a two-handler chain, so the measurement covers route
 * matching, a middleware (headers) and a terminal handler rather than a bare responder.
 */
export function ferryConfig(port) {
  return {
    admin: { disabled: true },
    apps: {
      http: {
        servers: {
          bench: {
            listen: [`${HOST}:${port}`],
            protocols: ['h1'],
            routes: [
              {
                match: [{ path: ['/'] }],
                handle: [
                  { handler: 'headers', response: { set: { 'X-Bench': ['1'] } } },
                  { handler: 'static_response', body: BODY },
                ],
              },
            ],
          },
        },
      },
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  process.stdout.write(`${JSON.stringify(ferryConfig(port), null, 2)}\n`);
}
