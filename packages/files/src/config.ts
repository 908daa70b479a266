import { z } from '@ferry/core';

/** The options of `file_server`, Caddy's names; shared by config and `fileServer({...})`. */

const encoding = (suffix: string) => z.strictObject({}).describe(`Serve the \`FILE${suffix}\` sidecar where it exists.`);

const SORT_BY = ['name', 'namedirfirst', 'size', 'time'] as const;
const SORT_ORDER = ['asc', 'desc'] as const;

export const browseSchema = z.strictObject({
  sort: z
    .array(z.enum([...SORT_BY, ...SORT_ORDER]))
    .max(2)
    .refine(
      (s) =>
        (s[0] === undefined || (SORT_BY as readonly string[]).includes(s[0])) &&
        (s[1] === undefined || (SORT_ORDER as readonly string[]).includes(s[1])),
      'what to sort by ("name", "namedirfirst", "size" or "time"), then optionally "asc" or "desc"',
    )
    .optional()
    .meta({
      description: 'How the listing is sorted: `["name" | "namedirfirst" | "size" | "time", "asc" | "desc"]`.',
      default: ['name', 'asc'],
    }),
  file_limit: z.number().int().positive().optional().meta({ description: 'At most this many entries are listed.', default: 10000 }),
});

export const fileServerShape = {
  root: z.string().optional().meta({
    description:
      'The folder files are served from; placeholders allowed. A relative path is relative to the working directory. Unset: `{http.vars.root}`, else the working directory.',
    default: '{http.vars.root}',
  }),
  hide: z
    .array(z.string())
    .optional()
    .describe(
      'Files and folders to pretend do not exist (404). An entry without a `/` hides every file or folder of that name (a glob: `.git`, `*.bak`); one with a `/` is a file-system path (relative to the working directory, not the root), hiding itself and all under it, or a glob over the absolute path. Placeholders allowed. The config file `ferry run --config` reads is always hidden.',
    ),
  index_names: z
    .array(z.string())
    .optional()
    .meta({ description: 'The files to serve for a folder, tried in order.', default: ['index.html', 'index.txt'] }),
  browse: browseSchema
    .optional()
    .describe(
      'Lists a folder that has no index file: HTML, or JSON for a client whose Accept names `application/json`. Unset: such folders are 404.',
    ),
  canonical_uris: z.boolean().optional().meta({
    description:
      'Redirect (308) a folder requested without its trailing slash to the URI with one, and a file requested with one to the URI without.',
    default: true,
  }),
  status_code: z
    .union([z.number().int().min(100).max(999), z.string()])
    .optional()
    .describe(
      'The status to serve files with (a 404 page, say); placeholders allowed. With it, Range and conditional requests are not evaluated. In error routes the default is the error status.',
    ),
  pass_thru: z
    .boolean()
    .optional()
    .meta({ description: 'A file that is not found goes to the next handler instead of a 404.', default: false }),
  precompressed: z
    .strictObject({ gzip: encoding('.gz').optional(), br: encoding('.br').optional(), zstd: encoding('.zst').optional() })
    .optional()
    .describe(
      'Serve `FILE.gz`, `FILE.br`, `FILE.zst` sidecars, compressed ahead of time, to clients whose Accept-Encoding takes them (with `Content-Encoding`); the file itself otherwise.',
    ),
  precompressed_order: z
    .array(z.enum(['gzip', 'br', 'zstd']))
    .optional()
    .describe('Which sidecar wins when the client accepts several equally. Unset: the one the client lists first, as Caddy.'),
  etag_file_extensions: z
    .array(z.string().regex(/^[^/\\]+$/, 'an extension such as ".etag", without a path separator'))
    .optional()
    .describe(
      'Read the ETag from a sidecar file (`FILE.etag` for `".etag"`) instead of computing one; its content is the quoted tag (a regular file of at most 1,024 bytes, checked against `root` as a served file is).',
    ),
  follow_symlinks_outside_root: z.boolean().optional().meta({
    description: 'Not in Caddy (which always follows them): serve files whose symlinks lead outside `root`. By default such a file is 404.',
    default: false,
  }),
};

export const fileServerSchema = z.strictObject(fileServerShape);

export type FileServerConfig = z.output<typeof fileServerSchema>;

/** Checks a schema cannot express: `precompressed_order` names configured encodings only. */
export function validateFileServer(cfg: FileServerConfig): string[] {
  const problems: string[] = [];
  const configured = Object.keys(cfg.precompressed ?? {});
  (cfg.precompressed_order ?? []).forEach((enc, i) => {
    if (!configured.includes(enc)) problems.push(`precompressed_order[${i}] names "${enc}", which is not in precompressed: add it there`);
  });
  for (const [i, name] of (cfg.index_names ?? []).entries()) {
    if (name.includes('/') || name.includes('\\') || name === '..' || name === '.' || name === '' || name.includes('\0'))
      problems.push(`index_names[${i}]: "${name}" is not a file name (no path separators, not "." or "..")`);
  }
  return problems;
}
