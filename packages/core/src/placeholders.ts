import { hostname } from 'node:os';
import type { FerryRequest } from './request.js';

/**
 * Caddy-style placeholders: `{http.request.host}`, `{http.vars.NAME}`, … A template is parsed
 * once, at provision time; rendering is a walk over literal and placeholder parts.
 */

type Part = string | { key: string; raw: string };

/** Changes a placeholder's value before it goes into the text (`renderAll`): escaping, say. */
export type PlaceholderEdit = (value: string, key: string, req: FerryRequest) => string;

/** A parsed template: render it against a request. */
export interface Template {
  /** True when the template holds no placeholder: `render` returns the literal. */
  readonly isStatic: boolean;
  /** Placeholder keys this template uses that Ferry does not know (they render as written). */
  readonly unknown: readonly string[];
  /**
   * The text with its placeholders replaced, as Caddy's `ReplaceKnown`: an unknown placeholder,
   * or one with no value for this request (`{http.regexp.1}` when no regexp matched,
   * `{http.error.status_code}` outside error routes), stays as written.
   */
  render(req: FerryRequest): string;
  /**
   * The text with every placeholder replaced, as Caddy's `ReplaceAll`: unknown ones and ones
   * with no value become empty. `edit`, when given, changes each value before it is inserted.
   * What the `rewrite` handler uses.
   */
  renderAll(req: FerryRequest, edit?: PlaceholderEdit): string;
}

const PROTO: Record<string, string> = { 'http/1.1': 'HTTP/1.1', h2: 'HTTP/2.0', h2c: 'HTTP/2.0' };

function indexed(list: string[], n: string): string {
  const i = Number(n);
  return Number.isInteger(i) && i >= 0 ? (list[i] ?? '') : '';
}

function headerValue(req: FerryRequest, name: string): string {
  const lower = name.toLowerCase();
  if (lower === 'host') return req.authority;
  const v = req.headers[lower];
  return v === undefined ? '' : Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * The client's IP as Go prints it: an IPv4 client of a dual-stack (`[::]`) listener shows as
 * `::ffff:a.b.c.d` in Node, but as `a.b.c.d` in Caddy.
 */
function remoteHost(req: FerryRequest): string {
  const ip = req.remoteAddress;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? '' : url.slice(q + 1);
}

/** Resolves one placeholder key; `undefined` means the key is unknown (it stays as written). */
export function resolvePlaceholder(key: string, req: FerryRequest): string | undefined {
  if (key.startsWith('http.request.')) {
    const k = key.slice(13);
    switch (k) {
      case 'method':
        return req.method;
      case 'scheme':
        return req.scheme;
      // HTTP/1.0 requests share the h1 path; the version is the request's own.
      case 'proto':
        return req.protocol === 'http/1.1' ? `HTTP/${(req.raw as { httpVersion?: string }).httpVersion ?? '1.1'}` : PROTO[req.protocol];
      case 'uri':
        return req.url;
      case 'orig_uri':
        return req.originalUrl;
      case 'orig_uri.path':
        return req.originalPath;
      case 'orig_uri.query':
        return queryOf(req.originalUrl);
      case 'orig_method':
        return req.originalMethod;
      case 'uri.path':
        return req.path;
      case 'uri.query':
        return req.rawQuery;
      case 'host':
        return req.host;
      case 'hostport':
        return req.authority;
      case 'port':
        return req.port;
      case 'remote': {
        const ip = remoteHost(req);
        return `${ip.includes(':') ? `[${ip}]` : ip}:${req.remotePort}`;
      }
      case 'remote.host':
        return remoteHost(req);
      case 'remote.port':
        return String(req.remotePort);
    }
    if (k.startsWith('uri.path.')) return indexed(req.path.split('/').filter(Boolean), k.slice(9));
    if (k.startsWith('uri.query.')) return req.query.get(k.slice(10)) ?? '';
    if (k.startsWith('host.labels.')) return indexed(req.host.split('.').reverse(), k.slice(12));
    if (k.startsWith('header.')) return headerValue(req, k.slice(7));
    if (k.startsWith('cookie.')) return req.cookies[k.slice(7)] ?? '';
    return undefined;
  }
  // Set by matcher modules for later handlers (`{http.matchers.file.relative}`).
  if (key.startsWith('http.matchers.')) return req.placeholder(key);
  // Set by a regexp matcher that ran (Caddy's `repl.Set`): until one did, no value.
  if (key.startsWith('http.regexp.')) return req.captures.get(key.slice(12));
  // Not Caddy's: the params of the `pattern` matcher (req.params).
  if (key.startsWith('http.params.')) return req.params[key.slice(12)] ?? '';
  // Caddy's name for the captures of its `url_pattern` matcher (Ferry's pathname only).
  if (key.startsWith('http.url_pattern.pathname.')) return req.params[key.slice(26)] ?? '';
  if (key.startsWith('http.vars.')) {
    const v = req.vars[key.slice(10)];
    return v === undefined || v === null ? '' : String(v);
  }
  // Set only inside error routes, as Caddy's: elsewhere they have no value.
  if (key === 'http.error.status_code') return req.error ? String(req.error.status) : undefined;
  if (key === 'http.error.message') return req.error ? req.error.message : undefined;
  return resolveStatic(key);
}

/** Placeholders that do not depend on a request: `{env.NAME}`, `{system.hostname}`, `{system.pid}`. */
export function resolveStatic(key: string): string | undefined {
  if (key.startsWith('env.')) return process.env[key.slice(4)] ?? '';
  if (key === 'system.hostname') return hostname();
  // Not Caddy's: with `ferry run --workers N` it tells which worker process answered.
  if (key === 'system.pid') return String(process.pid);
  return undefined;
}

const KNOWN_EXACT = new Set([
  'http.request.method',
  'http.request.scheme',
  'http.request.proto',
  'http.request.uri',
  'http.request.uri.path',
  'http.request.uri.query',
  'http.request.orig_uri',
  'http.request.orig_uri.path',
  'http.request.orig_uri.query',
  'http.request.orig_method',
  'http.request.host',
  'http.request.hostport',
  'http.request.port',
  'http.request.remote',
  'http.request.remote.host',
  'http.request.remote.port',
  'http.error.status_code',
  'http.error.message',
  'system.hostname',
  'system.pid',
]);
const KNOWN_PREFIX = [
  'http.request.uri.path.',
  'http.request.uri.query.',
  'http.request.host.labels.',
  'http.request.header.',
  'http.request.cookie.',
  'http.regexp.',
  'http.matchers.',
  'http.params.',
  'http.url_pattern.pathname.',
  'http.vars.',
  'env.',
];

export function isKnownPlaceholder(key: string): boolean {
  return KNOWN_EXACT.has(key) || KNOWN_PREFIX.some((p) => key.startsWith(p) && key.length > p.length);
}

/** A placeholder key is a dotted name; anything else between braces (JSON, say) is literal text. */
const KEY = /^[A-Za-z_][\w.-]*$/;

function parse(input: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === '\\' && (input[i + 1] === '{' || input[i + 1] === '}')) {
      lit += input[i + 1];
      i += 2;
      continue;
    }
    if (c === '{') {
      const end = input.indexOf('}', i + 1);
      const key = end === -1 ? '' : input.slice(i + 1, end);
      if (end !== -1 && KEY.test(key)) {
        if (lit) parts.push(lit);
        lit = '';
        parts.push({ key, raw: input.slice(i, end + 1) });
        i = end + 1;
        continue;
      }
    }
    lit += c;
    i++;
  }
  if (lit) parts.push(lit);
  return parts;
}

/** Joins adjacent literal parts, so rendering walks as few parts as it can. */
function merge(parts: Part[]): Part[] {
  const merged: Part[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else merged.push(p);
  }
  return merged;
}

/** Caddy's ReplaceAll over parsed parts: no value is empty. */
function renderAllParts(parts: readonly Part[], req: FerryRequest, edit: PlaceholderEdit | undefined): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else {
      const v = resolvePlaceholder(p.key, req) ?? '';
      out += edit ? edit(v, p.key, req) : v;
    }
  }
  return out;
}

/** Parses a template once. Request-independent placeholders (`env.*`, `system.*`) are resolved now. */
export function compileTemplate(input: string): Template {
  const parsed = parse(input);
  const unknown = [...new Set(parsed.flatMap((p) => (typeof p !== 'string' && !isKnownPlaceholder(p.key) ? [p.key] : [])))];
  const resolveFixed = (p: Part, ifUnknown: string): Part => {
    if (typeof p === 'string') return p;
    if (!isKnownPlaceholder(p.key)) return ifUnknown === '' ? '' : p.raw;
    const fixed = p.key.startsWith('env.') || p.key.startsWith('system.') ? resolveStatic(p.key) : undefined;
    return fixed ?? p;
  };
  const merged = merge(parsed.map((p) => resolveFixed(p, 'raw')));
  // For renderAll, an unknown placeholder is empty: its own parts when the template has one.
  const allParts = unknown.length === 0 ? merged : merge(parsed.map((p) => resolveFixed(p, '')));
  if (merged.every((p) => typeof p === 'string')) {
    const text = (merged as string[]).join('');
    const allText = (allParts as string[]).join('');
    return { isStatic: true, unknown, render: () => text, renderAll: () => allText };
  }
  return {
    isStatic: false,
    unknown,
    render(req) {
      let out = '';
      for (const p of merged) {
        if (typeof p === 'string') out += p;
        else out += resolvePlaceholder(p.key, req) ?? p.raw;
      }
      return out;
    },
    renderAll: (req, edit) => renderAllParts(allParts, req, edit),
  };
}
