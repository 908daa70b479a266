import { HttpError } from '../errors.js';

/**
 * A Standard Schema (standardschema.dev), the interface zod (≥ 3.24), valibot and arktype
 * schemas implement: what `req.json(schema)` validates with. Copied, as the standard asks, so
 * core depends on no validator's types.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] };

export interface StandardIssue {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** The type a schema's valid values have (`z.output` for zod). */
export type InferOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

/** Whether `value` is a Standard Schema rather than an options object. */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const std = typeof value === 'object' && value !== null ? (value as { '~standard'?: { validate?: unknown } })['~standard'] : undefined;
  return typeof std?.validate === 'function';
}

/** At most this many problems are named in the 400's message; the rest are counted. */
const MAX_LISTED = 10;

/**
 * The value the schema makes of `value`, or a 400 whose message names each failing path
 * (`body.user.email: Invalid email address`). The validator's issues are the error's `cause`.
 */
export async function validateBody<S extends StandardSchemaV1>(schema: S, value: unknown): Promise<InferOutput<S>> {
  let result: StandardResult<unknown>;
  try {
    result = await schema['~standard'].validate(value);
  } catch (err) {
    // A recursive schema walks as deep as the JSON goes, and JSON.parse goes deeper than the stack.
    if (err instanceof RangeError) throw new HttpError(400, 'request body is nested too deeply to validate', { cause: err });
    throw err;
  }
  if (result.issues === undefined) return result.value as InferOutput<S>;
  const listed = result.issues.slice(0, MAX_LISTED).map(describeIssue);
  const more = result.issues.length - listed.length;
  throw new HttpError(400, listed.join('; ') + (more > 0 ? `; and ${more} more` : ''), { cause: result.issues });
}

/** `body.a[0].b: message`, with nothing of the client's input in it but sanitized keys. */
function describeIssue(issue: StandardIssue): string {
  let path = 'body';
  for (const seg of issue.path ?? []) path += segment(typeof seg === 'object' ? seg.key : seg);
  return `${path}: ${message(issue)}`;
}

/** A path segment as JavaScript would write it; keys from the input are quoted and escaped. */
function segment(key: PropertyKey): string {
  if (typeof key === 'number') return `[${key}]`;
  if (typeof key === 'symbol') return '[symbol]';
  if (/^[A-Za-z_$][\w$]{0,63}$/.test(key)) return `.${key}`;
  return `[${quote(key)}]`;
}

/**
 * A client's string made safe to show anywhere an error message goes (a log line, an HTML
 * error page built from `{http.error.message}`): printable ASCII save `<>&'"\`, the rest as
 * `\uXXXX`, at most 40 characters.
 */
function quote(text: string): string {
  const cut = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `"${cut.replace(/[^\x20-\x7e]|[<>&'"\\`]/g, (c) => (c === '…' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
}

/**
 * The validator's message, except zod's `unrecognized_keys`, whose message repeats the client's
 * keys as they are: those are quoted like path segments instead.
 */
function message(issue: StandardIssue): string {
  const zod = issue as StandardIssue & { code?: unknown; keys?: unknown };
  if (zod.code === 'unrecognized_keys' && Array.isArray(zod.keys)) {
    const keys = zod.keys.slice(0, MAX_LISTED).map((k) => quote(String(k)));
    return `unrecognized key${keys.length === 1 ? '' : 's'} ${keys.join(', ')}${zod.keys.length > keys.length ? ', …' : ''}`;
  }
  const text = String(issue.message);
  return (text.length > 200 ? `${text.slice(0, 200)}…` : text).replace(/\p{Cc}/gu, ' ');
}
