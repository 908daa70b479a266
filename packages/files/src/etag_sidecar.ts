/**
 * `etag_file_extensions`: a file's ETag kept beside it (`page.html.etag`), as a build tool writes
 * it. Only a short regular file is read, once, at most `ETAG_FILE_LIMIT` + 1 bytes: a sidecar that
 * is huge, endless (a link to /dev/zero) or a FIFO can neither fill memory nor hold a thread. Its
 * text is used only when it is one well-formed tag: it goes into a response header.
 */

/** A sidecar is read up to this many bytes; a quoted tag is far shorter. */
export const ETAG_FILE_LIMIT = 1024;

/** A strong or weak entity tag (RFC 9110 §8.8.3), nothing before or after it but white space. */
const ETAG = /^(W\/)?"[\x21\x23-\x7e]*"$/;

/** The tag `bytes` hold, or undefined when they hold anything else (or are too long to be one). */
export function tagIn(bytes: Buffer | undefined): string | undefined {
  if (bytes === undefined || bytes.length > ETAG_FILE_LIMIT) return undefined;
  const tag = bytes.toString('latin1').trim();
  return ETAG.test(tag) ? tag : undefined;
}
