import { adoptUrl, type FerryRequest } from './request.js';

/**
 * The request target, interpreted once, the same way for every matcher, placeholder and upstream.
 *
 * A target that a matcher reads one way and a backend another is a bypass: a route that blocks
 * `/admin*` in front of `reverse_proxy` is walked past by `GET http://x/admin` (absolute-form),
 * `/%61dmin/%ff` (one undecodable escape used to switch decoding off) or `/x/..\admin` (WHATWG
 * URL parsers read `\` as `/` and `#` as the start of a fragment). So, before any handler runs:
 * absolute-form becomes origin-form (its authority is the request's host, RFC 9112 §3.2.2), and
 * the characters a URL parser would read differently from us — `\`, `#`, controls, spaces and
 * bytes outside ASCII — are percent-encoded, as Caddy forwards them. Decoding for matching is
 * byte-wise (`decodePath`), so an invalid escape never turns it off.
 */

/** Characters that are not left as they are in a target we serve and forward. */
const NEEDS_ESCAPE = /[^\x21-\x7e]|[\\#]/;
const NEEDS_ESCAPE_ALL = /[^\x21-\x7e]|[\\#]/g;

/** `http://` or `https://` and an authority (RFC 9112 §3.2.2), case-insensitive scheme. */
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/is;
/** A host (reg-name, IPv4 or bracketed IPv6) and an optional port: no userinfo, nothing else. */
const AUTHORITY = /^(?:\[[0-9a-f:.]+\]|[a-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?$/i;

function escapeChar(c: string): string {
  // Node's HTTP parsers hand target bytes over as latin1 characters: one byte each.
  const code = c.charCodeAt(0);
  if (code > 0xff) return '%EF%BF%BD'; // not from a parser; the replacement character's bytes
  return `%${code < 16 ? '0' : ''}${code.toString(16).toUpperCase()}`;
}

/** The target's origin-form and, for absolute-form, the authority it names. */
export interface OriginForm {
  url: string;
  authority: string | undefined;
}

/**
 * The target a request is served with: origin-form (`/path?query`) with `\`, `#`, controls and
 * non-ASCII bytes percent-encoded. `*` (OPTIONS) stays. Returns undefined for a target no server
 * should serve (400): neither origin-form, asterisk, nor an http(s) absolute-form with a plain
 * authority — and absolute-form over HTTP/2, where RFC 9113 §8.3.1 makes `:path` origin-form.
 */
export function originForm(target: string, allowAbsolute: boolean): OriginForm | undefined {
  let url = target;
  let authority: string | undefined;
  if (url.charCodeAt(0) !== 47 /* / */) {
    if (url === '*') return { url, authority };
    const abs = allowAbsolute ? ABSOLUTE_FORM.exec(url) : null;
    if (!abs || !AUTHORITY.test(abs[1]!)) return undefined;
    authority = abs[1]!.toLowerCase();
    const rest = abs[2]!;
    url = rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
  }
  if (NEEDS_ESCAPE.test(url)) url = url.replace(NEEDS_ESCAPE_ALL, escapeChar);
  return { url, authority };
}

/** True when `originForm` would change nothing: the common case, one test on the hot path. */
export function isPlainOriginForm(target: string): boolean {
  return target.charCodeAt(0) === 47 && !NEEDS_ESCAPE.test(target);
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Percent-decodes byte-wise, then reads the bytes as UTF-8, an invalid sequence becoming U+FFFD
 * (WHATWG's "percent-decode" then "UTF-8 decode without BOM"). An escape that is not `%HH` stays
 * as written. Unlike `decodeURIComponent`, nothing makes it give up: `/%61dmin/%ff` is
 * `/admin/\uFFFD`, never the raw text.
 */
export function decodePath(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // An invalid escape or UTF-8 sequence somewhere: decode what can be decoded.
  }
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) {
      bytes.push(c);
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Gives `req` the target it is served with (see `originForm`); false when the target is one to
 * refuse with 400. A classic CONNECT's authority-form target is left as it is.
 */
export function adoptTarget(req: FerryRequest): boolean {
  const target = req.url;
  if (isPlainOriginForm(target) || (req.isConnect && req.extendedConnectProtocol === undefined)) return true;
  const form = originForm(target, req.protocol === 'http/1.1');
  if (!form) return false;
  adoptUrl(req, form.url);
  // RFC 9112 §3.2.2: a server that receives absolute-form ignores Host and uses the target's
  // authority — for the host matcher, placeholders and the Host forwarded upstream alike.
  if (form.authority !== undefined) req.headers.host = form.authority;
  return true;
}
