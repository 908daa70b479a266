import { STATUS_CODES } from 'node:http';

/**
 * An error that carries an HTTP status. Throw it from a handler to stop the chain;
 * the server's error routes (or the default error response) take over.
 */
const HTTP_ERROR = Symbol.for('ferry.HttpError');

export class HttpError extends Error {
  /** `FERRY_ERR_HTTP`: catch by code across copies of @ferry/core (docs/errors.md). */
  readonly code = 'FERRY_ERR_HTTP';
  readonly status: number;
  /** Whether `message` may be shown to the client. True when a message was given explicitly. */
  readonly expose: boolean;

  constructor(status: number, message?: string, options?: { cause?: unknown }) {
    const valid = Number.isInteger(status) && status >= 400 && status <= 599;
    const code = valid ? status : 500;
    super(message ?? STATUS_CODES[code] ?? 'Error', options);
    this.name = 'HttpError';
    this.status = code;
    this.expose = message !== undefined && code < 500;
    (this as unknown as Record<symbol, true>)[HTTP_ERROR] = true;
  }

  /** Recognizes HttpErrors from any copy of @ferry/core (a plugin may bundle its own). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[HTTP_ERROR] === true;
  }

  /** Any thrown value as an HttpError: non-HttpErrors become 500 and keep the original as `cause`. */
  static from(err: unknown): HttpError {
    if (err instanceof HttpError) return err;
    return new HttpError(500, undefined, { cause: err });
  }
}

/** One problem in a configuration, located by its JSON path (`apps.http.servers.srv0.listen[0]`). */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** A configuration that cannot run. `issues` lists every problem found, each with its JSON path. */
export class ConfigError extends Error {
  /** `FERRY_ERR_CONFIG` (docs/errors.md). */
  readonly code = 'FERRY_ERR_CONFIG';
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(
      issues.length === 1
        ? `invalid config: ${formatIssue(issues[0]!)}`
        : `invalid config (${issues.length} problems):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Joins JSON path segments the way the error messages print them: `a.b[0].c`. */
export function joinPath(base: string, ...segments: (string | number)[]): string {
  let out = base;
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
