import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop fields, plus the ones proxies have long treated so. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Fields a client cannot make hop-by-hop by naming them in `Connection`: the request's target
 * and its framing. Go's ReverseProxy cannot drop them either (they live in `Request.Host` and
 * `Request.ContentLength`, not in the header map), and RFC 9110 §7.6.1 forbids naming a field
 * meant for every recipient anyway.
 */
const NEVER_HOP_BY_HOP = new Set(['host', 'content-length']);

export type HeaderRecord = Record<string, string | string[] | number | undefined>;

function list(v: string | string[] | number | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v.join(',') : String(v))
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

const NONE: ReadonlySet<string> = new Set();

/**
 * Copies `headers` without pseudo-headers, hop-by-hop fields and those in `named` (unless in
 * `keep`). `lower`: every name is lower case already (the HTTP/1.1 parser's record).
 */
function copy(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  named: ReadonlySet<string>,
  keep?: readonly string[],
  lower = false,
): HeaderRecord {
  const out: HeaderRecord = {};
  // `for…in` and this test: Object.keys' set in its order, but V8 reads each value by the enum
  // cache's field index (a key from Object.keys is a megamorphic keyed load, 2-4x slower on a
  // record of fields), and folds the test away. Written out in full: held in a module variable,
  // or as Object.hasOwn, it is a call per field (bundles turn module constants into vars).
  for (const k in headers) {
    // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is not folded into the for…in loop
    if (!Object.prototype.hasOwnProperty.call(headers, k)) continue;
    const v = headers[k];
    if (v === undefined) continue;
    // Node's and undici's names are lower case already; a header object made by hand may not be.
    const name = lower ? k : k.toLowerCase();
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if ((HOP_BY_HOP.has(name) || named.has(name)) && !keep?.includes(name)) continue;
    out[name] = v as string | string[];
  }
  // `TE: trailers` survives (gRPC needs it), as in Go's ReverseProxy.
  if (headers.te !== undefined && list(headers.te as string | string[]).includes('trailers')) out.te = 'trailers';
  return out;
}

/**
 * Copies headers without the hop-by-hop ones and those named in `Connection`, and without h2
 * pseudo-headers. For an upstream's response; a request goes through `requestEndToEnd`.
 * `lower`: the names are lower case already, as the HTTP/1.1 parser leaves them.
 */
export function endToEnd(headers: IncomingHttpHeaders | OutgoingHttpHeaders, keep?: readonly string[], lower = false): HeaderRecord {
  const connection = headers.connection as string | string[] | undefined;
  // Most upstreams say just `keep-alive`, a field dropped anyway: no list to build per response.
  if (connection === undefined || connection === 'keep-alive') return copy(headers, NONE, keep, lower);
  return copy(headers, new Set(list(connection)), keep, lower);
}

/** Whether `name` (lower case) is hop-by-hop whatever `Connection` says. */
export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/**
 * Whether leaving out the always-hop-by-hop names is all `endToEnd` would do to an upstream's
 * fields with lower-case names: `Connection` names nothing else and there is no `TE`. Then the
 * fields can be passed on from the parser's own record, skipping those names, without a copy.
 */
export function onlyHopByHop(headers: HeaderRecord): boolean {
  const connection = headers.connection;
  return headers.te === undefined && (connection === undefined || connection === 'keep-alive');
}

/** The values of field `name` (lower case) in Node's `rawHeaders`: the lines as received. */
export function received(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const k = rawHeaders[i]!;
    if (k.length === name.length && k.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values;
}

/** Whether the field's value is no longer what the client sent: a handler (header ops) set it. */
function setSinceReceived(rawHeaders: readonly string[], headers: IncomingHttpHeaders, name: string): boolean {
  const now = headers[name];
  if (now === undefined) return false;
  const sent = received(rawHeaders, name);
  if (sent.length === 0) return true;
  const v = Array.isArray(now) ? now.join(', ') : now;
  // Node joins a repeated field with ", " ("; " for Cookie) or keeps the first of a single-valued one.
  return v !== sent.join(', ') && v !== sent.join('; ') && v !== sent[0];
}

/**
 * The request's end-to-end fields, for the upstream. What the client named in `Connection` is
 * judged from its header lines *as received*, so no handler can widen or narrow that list by
 * editing `Connection`; a named field whose value a handler before the proxy set (the `headers`
 * handler) is the config's, not the client's, and is kept. Host and Content-Length always are.
 */
export function requestEndToEnd(rawHeaders: readonly string[], headers: IncomingHttpHeaders): HeaderRecord {
  const lines = received(rawHeaders, 'connection');
  if (lines.length === 0) return copy(headers, NONE);
  // Made for the first name that counts: browsers and Node's agents name nothing but keep-alive.
  let named: Set<string> | undefined;
  for (const line of lines) {
    // What browsers and Node's agents say on every request: no list to build for it.
    if (line === 'keep-alive' || (line === 'close' && headers.close === undefined)) continue;
    for (const name of list(line)) {
      if (HOP_BY_HOP.has(name) || NEVER_HOP_BY_HOP.has(name) || setSinceReceived(rawHeaders, headers, name)) continue;
      (named ??= new Set()).add(name);
    }
  }
  return copy(headers, named ?? NONE);
}

/** `Via` with Ferry's hop appended (RFC 9110 §7.6.3) to what it held, if anything. */
export function viaAfter(cur: string | string[] | number | undefined, version: string): string {
  // The same string each time for the two versions Ferry receives.
  const hop = version === '1.1' ? '1.1 ferry' : version === '2.0' ? '2.0 ferry' : `${version} ferry`;
  return cur === undefined ? hop : `${Array.isArray(cur) ? cur.join(', ') : String(cur)}, ${hop}`;
}

/** Appends a hop to `Via` (RFC 9110 §7.6.3). */
export function addVia(headers: HeaderRecord, version: string): void {
  headers.via = viaAfter(headers.via, version);
}
