// Shared by every contender's server so that they differ only in the framework.

/** The benchmark's response body: 13 bytes. */
export const BODY = 'Hello, World!';

/** Every contender sends the same Content-Type, so no one wins by sending fewer header bytes. */
export const CONTENT_TYPE = 'text/plain; charset=utf-8';

export const HOST = '127.0.0.1';

/** The port comes from the first argument or, failing that, $PORT. */
export function portFromArgs() {
  const raw = process.argv[2] ?? process.env.PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write(`usage: node ${process.argv[1]} PORT  (or set $PORT); got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return port;
}

/** A proxy's upstream port, from the second argument. */
export function upstreamPortFromArgs() {
  const port = Number(process.argv[3]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write(`usage: node ${process.argv[1]} PORT UPSTREAM_PORT; got ${JSON.stringify(process.argv[3])}\n`);
    process.exit(2);
  }
  return port;
}

/** Tells a human running the server by hand that it is up; the harness polls the port instead. */
export function ready(port) {
  process.stdout.write(`ready http://${HOST}:${port}/\n`);
}
