import type { PlaceholderEdit, Template } from '../placeholders.js';
import type { FerryRequest } from '../request.js';
import { escapePath, toRawPath } from './rewrite_path.js';
import { buildQuery, type QueryComponent, splitQuery, toRawQuery } from './rewrite_query.js';

/** The URI a rewrite is building: an escaped path and a raw query (no `?`). */
export interface RewriteTarget {
  path: string;
  query: string;
}

/** The parts of a `uri` value, found as Caddy finds them: the first `?` starts the query, the first `#` the fragment. */
function splitUri(uri: string): { path: string | undefined; query: string | undefined } {
  let pathStart = -1;
  let pathEnd = -1;
  let qsStart = -1;
  let qsEnd = -1;
  for (let i = 0; i < uri.length; i++) {
    const c = uri[i];
    if (c === '?' && qsStart < 0) {
      pathEnd = i;
      qsStart = i + 1;
    } else if (c === '#') {
      // Everything after a `#` is a fragment (RFC 3986 §4.2), never sent to a server: dropped.
      if (qsStart < 0) pathEnd = i;
      else qsEnd = i;
      break;
    } else if (pathStart < 0 && qsStart < 0) pathStart = i;
  }
  if (pathStart >= 0 && pathEnd < 0) pathEnd = uri.length;
  if (qsStart >= 0 && qsEnd < 0) qsEnd = uri.length;
  return {
    path: pathStart >= 0 ? uri.slice(pathStart, pathEnd) : undefined,
    query: qsStart >= 0 ? uri.slice(qsStart, qsEnd) : undefined,
  };
}

/**
 * Path placeholders go in escaped, so that their `?`, `#` and `%` stay data: the request's own
 * path as it was sent, a file the `file` matcher found escaped with its slashes kept (as Caddy).
 * Other values go in as they are, and the whole is then read as an escaped path.
 */
const pathEdit: PlaceholderEdit = (value, key, req) => {
  if (key === 'http.request.uri.path') return req.rawPath;
  if (key === 'http.matchers.file.relative') return escapePath(value);
  return value;
};

/** A literal query (one a placeholder value injected) as a template that renders as itself. */
function literal(text: string): Template {
  return { isStatic: true, unknown: [], render: () => text, renderAll: () => text };
}

/**
 * Compiles the `uri` option: a path, a query or both (`/new`, `?a=b`, `/new?a=b`), placeholders
 * allowed. Only the parts it has change; `?` alone clears the query; `?{http.request.uri.query}&a=b`
 * keeps the query and appends to it (values are escaped, pairs appended, never overwritten).
 * A value that brings a `?` into the path sets the query when the `uri` has none of its own (or
 * with `force_modify_query`); its `{`/`}` are escaped so it is never expanded again
 * (GHSA-j8px-rmrx-76h9).
 */
export function compileUri(
  uri: string,
  forceModifyQuery: boolean,
  template: (text: string, path: string) => Template,
  path: string,
): (req: FerryRequest, target: RewriteTarget) => void {
  const parts = splitUri(uri);
  const pathTemplate = parts.path === undefined ? undefined : template(parts.path, path);
  const queryText = parts.query ?? '';
  const queryParts = queryText === '' ? [] : splitQuery(queryText, (t) => template(t, path));
  const setsQuery = parts.query !== undefined;
  return (req, target) => {
    let query: readonly QueryComponent[] = queryParts;
    let writeQuery = setsQuery;
    if (pathTemplate) {
      let p = pathTemplate.renderAll(req, pathEdit);
      const hash = p.indexOf('#');
      if (hash !== -1) p = p.slice(0, hash);
      const q = p.indexOf('?');
      if (q !== -1) {
        if (queryText === '' || forceModifyQuery) {
          const injected = p
            .slice(q + 1)
            .replace(/\{/g, '%7B')
            .replace(/\}/g, '%7D');
          query = injected === '' ? [] : splitQuery(injected, literal);
          writeQuery = true;
        }
        p = p.slice(0, q);
      }
      target.path = toRawPath(p);
    }
    if (writeQuery) target.query = toRawQuery(buildQuery(query, req));
  };
}
