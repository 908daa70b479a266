import { hostname } from 'node:os';
import type { FerryRequest } from './request.js';

/**
 * Caddy-style placeholders: `{http.request.host}`, `{http.vars.NAME}`, … A template is parsed
 * once, at provision time; rendering is a walk over literal and placeholder parts.
 */

type Part = string | { key: string; raw: string };

/** A parsed template: render it against a request. */
export interface Template {
  /** True when the template holds no placeholder: `render` returns the literal. */
  readonly isStatic: boolean;
  /** Placeholder keys this template uses that Ferry does not know (they render as written). */
  readonly unknown: readonly string[];
  render(req: FerryRequest): string;
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
  if (key.startsWith('http.matchers.')) return req.placeholder(key) ?? '';
  if (key.startsWith('http.regexp.')) return req.captures.get(key.slice(12)) ?? '';
  // Not Caddy's: the params of the `pattern` matcher (req.params).
  if (key.startsWith('http.params.')) return req.params[key.slice(12)] ?? '';
  // Caddy's name for the captures of its `url_pattern` matcher (Ferry's pathname only).
  if (key.startsWith('http.url_pattern.pathname.')) return req.params[key.slice(26)] ?? '';
  if (key.startsWith('http.vars.')) {
    const v = req.vars[key.slice(10)];
    return v === undefined || v === null ? '' : String(v);
  }
  if (key === 'http.error.status_code') return req.error ? String(req.error.status) : '';
  if (key === 'http.error.message') return req.error?.message ?? '';
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

/** Parses a template once. Request-independent placeholders (`env.*`, `system.*`) are resolved now. */
export function compileTemplate(input: string): Template {
  const parts = parse(input).map((p): Part => {
    if (typeof p === 'string') return p;
    if (!isKnownPlaceholder(p.key)) return p.raw;
    const fixed = p.key.startsWith('env.') || p.key.startsWith('system.') ? resolveStatic(p.key) : undefined;
    return fixed ?? p;
  });
  const unknown = [...new Set(parse(input).flatMap((p) => (typeof p !== 'string' && !isKnownPlaceholder(p.key) ? [p.key] : [])))];
  const merged: Part[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else merged.push(p);
  }
  if (merged.every((p) => typeof p === 'string')) {
    const text = (merged as string[]).join('');
    return { isStatic: true, unknown, render: () => text };
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
  };
}
