import { parseCookie, stringifySetCookie } from 'cookie';
import { parseDuration } from './duration.js';

/**
 * A request's cookies, name → value (`req.cookies`). No inherited keys: `__proto__` or
 * `constructor` sent by a client is an ordinary cookie name, never a prototype's member.
 */
export type RequestCookies = Record<string, string | undefined>;

/** Options of `res.setCookie` and `res.clearCookie`: the `Set-Cookie` attributes (RFC 6265bis §4.1). */
export interface CookieOptions {
  /** `Path`. Default `/` (not the request path's directory, which surprises more than it helps). */
  path?: string;
  /** `Domain`: unset, the cookie goes back to this host only, which is safest. */
  domain?: string;
  /** `Max-Age`: whole seconds (a number), or a duration string (`'1h'`, `'30m'`). Unset: a session cookie. */
  maxAge?: number | string;
  /** `Expires`. When `maxAge` is set too, browsers use `maxAge`. */
  expires?: Date;
  /** `HttpOnly`: scripts cannot read the cookie. Default `true`. */
  httpOnly?: boolean;
  /**
   * `Secure`: sent back over HTTPS only. Default: `true` when the request came over TLS, and
   * whenever the cookie needs it (a `__Secure-` or `__Host-` name, `sameSite: 'none'`,
   * `partitioned`); behind a proxy that terminates TLS, set it yourself.
   */
  secure?: boolean;
  /** `SameSite`. Default `'lax'`; `false` leaves the attribute out (the browser's default applies). */
  sameSite?: 'strict' | 'lax' | 'none' | false;
  /** `Partitioned` (CHIPS): a cookie kept per top-level site. Needs `Secure`. */
  partitioned?: boolean;
  /** `Priority` (Chromium). */
  priority?: 'low' | 'medium' | 'high';
  /**
   * Encodes the value for the header. Default `encodeURIComponent`, which `req.cookies` undoes;
   * an encoder that leaves characters a cookie value cannot hold gets a `CookieError`.
   */
  encode?: (value: string) => string;
}

/** Options of `res.clearCookie`: those the cookie was set with; its lifetime is the removal's own. */
export type ClearCookieOptions = Omit<CookieOptions, 'maxAge' | 'expires' | 'encode'>;

/** A `setCookie`/`clearCookie` call that would send a cookie browsers refuse or misread. */
export class CookieError extends TypeError {
  /** `FERRY_ERR_COOKIE` (docs/errors.md). */
  readonly code = 'FERRY_ERR_COOKIE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CookieError';
  }
}

/** Browsers drop a cookie whose name and value together exceed this many bytes (RFC 6265bis §5.7). */
const MAX_NAME_VALUE = 4096;

/** The Unix epoch, the `Expires` of a cookie being removed. */
const EPOCH = new Date(0);

/** As cookie's own decoder (percent-decoding, kept raw when it does not decode), quotes first stripped (as Go's net/http). */
function decode(value: string): string {
  if (value.length >= 2 && value.charCodeAt(0) === 0x22 && value.charCodeAt(value.length - 1) === 0x22) value = value.slice(1, -1);
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Parses `Cookie` field values into a record without inherited keys. Several fields (h2 sends
 * one per cookie, and a proxy may split them) are joined with `; ` as RFC 9113 §8.2.3 says. The
 * first occurrence of a name wins; a value is percent-decoded, and kept as sent when it does not
 * decode; a pair without `=` is skipped. Never throws.
 */
export function parseCookies(field: string | readonly string[] | undefined): RequestCookies {
  const text = field === undefined ? '' : typeof field === 'string' ? field : field.join('; ');
  return parseCookie(text, { decode });
}

/** A short, printable form of a client- or caller-given string for an error message. */
function shown(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

/** Whether `name` carries a prefix that browsers enforce; matched case-insensitively, as browsers do (RFC 6265bis §4.1.3). */
function prefixOf(name: string): '__Secure-' | '__Host-' | undefined {
  const head = name.slice(0, 9).toLowerCase();
  if (head === '__secure-') return '__Secure-';
  if (head.startsWith('__host-')) return '__Host-';
  return undefined;
}

/** Why this cookie must be `Secure`, if it must. */
function secureReason(name: string, o: CookieOptions): string | undefined {
  const prefix = prefixOf(name);
  if (prefix) return `a ${prefix} name`;
  if (o.sameSite === 'none') return "sameSite: 'none'";
  if (o.partitioned) return 'partitioned';
  return undefined;
}

function maxAgeSeconds(name: string, v: number | string): number {
  if (typeof v === 'number') return v;
  try {
    return Math.floor(parseDuration(v) / 1000);
  } catch (err) {
    throw new CookieError(`cookie ${shown(name)}: maxAge ${(err as Error).message}`, { cause: err });
  }
}

/** Says which part of the cookie was refused, from the `cookie` package's own check. */
function explain(name: string, err: Error): CookieError {
  const m = err.message;
  const why = m.startsWith('argument name')
    ? `invalid name ${shown(name)}: a cookie name is printable ASCII without spaces, ';' or '=' (RFC 6265 §4.1.1)`
    : m.startsWith('argument val')
      ? `cookie ${shown(name)}: the encoded value holds characters a cookie value cannot (controls, spaces, '"', ',', ';' or '\\'); keep the default encode`
      : m.startsWith('option domain')
        ? `cookie ${shown(name)}: invalid domain (a host name such as "example.com", without scheme, port or path)`
        : m.startsWith('option path')
          ? `cookie ${shown(name)}: invalid path (printable ASCII without ';')`
          : `cookie ${shown(name)}: ${m}`;
  return new CookieError(why, { cause: err });
}

/**
 * The `Set-Cookie` field value for `name=value` with Ferry's defaults (`Path=/`, `HttpOnly`,
 * `SameSite=Lax`, `Secure` over TLS). `tls`: the request came over TLS. Throws a `CookieError`
 * for a cookie a browser would refuse: an invalid name, value, domain or path, a `__Secure-` /
 * `__Host-` name that breaks its prefix's rules, `SameSite=None` or `Partitioned` without
 * `Secure`, or more than 4096 bytes of name and value.
 */
export function setCookieValue(tls: boolean, name: string, value: string, o: CookieOptions = {}): string {
  if (typeof name !== 'string') throw new CookieError(`a cookie name is a string, got ${typeof name}`);
  if (typeof value !== 'string') throw new CookieError(`cookie ${shown(name)}: the value is a string, got ${typeof value}`);
  const must = secureReason(name, o);
  const secure = o.secure ?? (tls || must !== undefined);
  if (must && !secure) throw new CookieError(`cookie ${shown(name)}: ${must} requires Secure; drop \`secure: false\``);
  const path = o.path ?? '/';
  if (prefixOf(name) === '__Host-' && (o.domain !== undefined || path !== '/')) {
    throw new CookieError(`cookie ${shown(name)}: a __Host- cookie has no domain and path "/"; drop those options or the prefix`);
  }
  let header: string;
  try {
    header = stringifySetCookie(name, value, {
      path,
      domain: o.domain,
      maxAge: o.maxAge === undefined ? undefined : maxAgeSeconds(name, o.maxAge),
      expires: o.expires,
      httpOnly: o.httpOnly ?? true,
      secure,
      sameSite: o.sameSite === undefined ? 'lax' : o.sameSite,
      partitioned: o.partitioned,
      priority: o.priority,
      encode: o.encode,
    });
  } catch (err) {
    if (err instanceof CookieError) throw err;
    throw explain(name, err as Error);
  }
  const end = header.indexOf(';');
  if (Buffer.byteLength(end === -1 ? header : header.slice(0, end)) - 1 > MAX_NAME_VALUE) {
    throw new CookieError(`cookie ${shown(name)}: name and value exceed ${MAX_NAME_VALUE} bytes, which browsers drop`);
  }
  return header;
}

/**
 * The `Set-Cookie` field value that removes `name`: empty, `Max-Age=0` and an `Expires` in 1970,
 * with the same `Path`/`Domain` (and prefix rules) the cookie was set with — a browser removes
 * only the cookie whose name, path and domain all match.
 */
export function clearCookieValue(tls: boolean, name: string, o: ClearCookieOptions = {}): string {
  return setCookieValue(tls, name, '', { ...o, maxAge: 0, expires: EPOCH, encode: undefined });
}

/** What a writer needs to set cookies: appendHeader (several fields, never joined with commas). */
interface CookieTarget {
  appendHeader(name: string, value: string): unknown;
}

/** Appends a `Set-Cookie` field to `res` (the shared body of the writers' `setCookie`). */
export function appendSetCookie(res: CookieTarget, tls: boolean, name: string, value: string, options?: CookieOptions): void {
  res.appendHeader('set-cookie', setCookieValue(tls, name, value, options));
}

/** Appends the `Set-Cookie` field that removes `name` (the shared body of the writers' `clearCookie`). */
export function appendClearCookie(res: CookieTarget, tls: boolean, name: string, options?: ClearCookieOptions): void {
  res.appendHeader('set-cookie', clearCookieValue(tls, name, options));
}
