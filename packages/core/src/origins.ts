/**
 * Origin allow-lists (the `cors` handler's `allowed_origins`): entries parsed and normalised once,
 * then matched against the `Origin` a browser sends — the ASCII serialisation of an origin
 * (scheme, host, port; lower-case, punycode, no default port: WHATWG HTML §7.1.1, RFC 6454 §6.2).
 */

/** A parsed allow-list: any origin, exact origins, and wildcard subdomains. */
export interface OriginList {
  readonly any: boolean;
  readonly exact: ReadonlySet<string>;
  readonly wildcards: readonly { readonly prefix: string; readonly suffix: string }[];
}

/** One entry, parsed: what it allows, or why it is refused. */
export type OriginEntry = { kind: 'any' } | { kind: 'exact'; origin: string } | { kind: 'wildcard'; prefix: string; suffix: string };

/** No browser sends a longer Origin (a 253-byte host, a scheme and a port): longer ones are refused unread. */
export const MAX_ORIGIN_LENGTH = 1024;

/** The subdomain part a wildcard matches: one or more DNS labels, as a browser serialises them. */
const LABELS = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/**
 * Parses one `allowed_origins` entry: `*`, an origin (`https://app.example.com`,
 * `http://localhost:8080`), or a wildcard subdomain (`https://*.example.com`, which matches
 * `https://a.example.com` and `https://a.b.example.com`, not `https://example.com`). Scheme and
 * host are lower-cased and a default port dropped, as browsers send them. Throws an Error whose
 * message says what to write instead.
 */
export function parseOriginEntry(entry: string): OriginEntry {
  if (entry === '*') return { kind: 'any' };
  if (entry === 'null') {
    throw new Error(
      '"null" is the origin of sandboxed frames, file: pages and cross-site redirects, which any site can produce: allowing it allows everyone. Leave it out (in code, a function can decide)',
    );
  }
  const sep = entry.indexOf('://');
  if (sep <= 0) throw new Error(`"${entry}" is not an origin: write scheme://host[:port], e.g. "https://app.example.com"`);
  const rest = entry.slice(sep + 3);
  if (/[/?#]/.test(rest)) {
    const fix = `${entry.slice(0, sep + 3)}${rest.split(/[/?#]/, 1)[0]}`;
    throw new Error(`an origin has no path, query or trailing "/": write "${fix}"`);
  }
  const star = rest.indexOf('*');
  if (star !== -1 && (star !== 0 || rest[1] !== '.' || rest.indexOf('*', 1) !== -1)) {
    throw new Error(`a wildcard stands for whole subdomain labels, first: write e.g. "${entry.slice(0, sep + 3)}*.example.com"`);
  }
  let url: URL;
  try {
    // A placeholder label stands in for the wildcard, so the URL parser normalises the rest.
    url = new URL(star === 0 ? `${entry.slice(0, sep + 3)}x${rest.slice(1)}` : entry);
  } catch {
    throw new Error(`"${entry}" is not an origin: write scheme://host[:port], e.g. "https://app.example.com"`);
  }
  if (url.username || url.password) throw new Error(`an origin has no user name or password: write "${url.protocol}//${url.host}"`);
  const origin = `${url.protocol}//${url.host}`;
  if (star !== 0) return { kind: 'exact', origin };
  const suffix = origin.slice(url.protocol.length + 3); // ".example.com[:port]"
  const host = url.hostname.slice(2);
  if (!host.includes('.') && host !== 'localhost') {
    throw new Error(`"${entry}" would allow every site under a top-level domain: name the site, e.g. "${url.protocol}//*.example.${host}"`);
  }
  return { kind: 'wildcard', prefix: `${url.protocol}//`, suffix };
}

/** Gathers parsed entries into one list to match against. */
export function originList(entries: readonly OriginEntry[]): OriginList {
  const exact = new Set<string>();
  const wildcards: { prefix: string; suffix: string }[] = [];
  let any = false;
  for (const e of entries) {
    if (e.kind === 'any') any = true;
    else if (e.kind === 'exact') exact.add(e.origin);
    else wildcards.push({ prefix: e.prefix, suffix: e.suffix });
  }
  return { any, exact, wildcards };
}

/**
 * Whether `origin` (an `Origin` field value) is allowed. Compared byte for byte with the
 * normalised entries: browsers always send the lower-case serialisation, so `HTTPS://App.…`,
 * a path, several origins in one field or anything over MAX_ORIGIN_LENGTH comes from no browser
 * and is refused.
 */
export function originAllowed(list: OriginList, origin: string): boolean {
  if (list.any) return true;
  if (origin.length > MAX_ORIGIN_LENGTH) return false;
  if (list.exact.has(origin)) return true;
  for (const { prefix, suffix } of list.wildcards) {
    // The subdomain part: between the scheme and ".example.com[:port]", at least one label.
    if (origin.length > prefix.length + suffix.length && origin.startsWith(prefix) && origin.endsWith(suffix)) {
      if (LABELS.test(origin.slice(prefix.length, origin.length - suffix.length))) return true;
    }
  }
  return false;
}
