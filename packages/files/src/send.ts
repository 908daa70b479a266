import { fstat, type Stats } from 'node:fs';
import { DONE, HttpError, type FerryRequest, type ResponseWriter } from '@ferry/core';
import { releaseWhenWritten } from '@ferry/core/internal';
import { evaluatePreconditions, ifRangeHolds } from './conditional.js';
import { closeSoon, OpenFile } from './open_file.js';
import { parseRange } from './range.js';
import { openFile, readAt } from './read_buffers.js';
import { streamFile } from './stream_file.js';

/**
 * Sends one file: validators, preconditions, Range, HEAD, and the body — read whole when small
 * (sendWhole), streamed with backpressure when large (stream_file.ts: a slow client slows the
 * reads, so memory stays flat whatever the size).
 */

/** Files up to this size are read into one buffer and sent with one `end()`; larger ones stream. */
const WHOLE_READ_LIMIT = 256 * 1024;

/** A file chosen to answer a request. */
export interface ChosenFile {
  /** The path read for the body: the file, or its precompressed sidecar. */
  readonly path: string;
  /** That file, when it was opened already (to check where it leads): read from, not opened again. */
  readonly opened: OpenFile | undefined;
  /** The stat of that file the answer's length and validators come from. */
  readonly info: Stats;
  readonly contentType: string;
  readonly etag: string | undefined;
  /** The original file's modification time, whole seconds; undefined when it is not useful (epoch). */
  readonly mtimeSeconds: number | undefined;
  /** The sidecar's encoding, when one was chosen. */
  readonly encoding: string | undefined;
}

/** The stats of the file open as `fd`: what it is now, whatever was renamed over its path since. */
function statOf(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (err, info) => (err ? reject(err) : resolve(info))));
}

/**
 * Whether `now` (the stats of the descriptor read) is still the file its stat (`was`) described,
 * as far as an answer of it (`whole`) or of a range of it can tell: the same file, not another
 * renamed over its path — an inode freed and used again keeps its number, not its birth time
 * (where the filesystem keeps none, any change to it counts) — and as it was, or only longer when
 * a range is sent: a file appended to still holds the bytes the stat's length and ETag name.
 */
function stillTheFile(was: Stats, now: Stats, whole: boolean): boolean {
  if (!now.isFile() || now.ino !== was.ino || now.dev !== was.dev) return false;
  if (was.birthtimeMs > 0 ? now.birthtimeMs !== was.birthtimeMs : now.ctimeMs !== was.ctimeMs) return false;
  return whole ? now.size === was.size && now.mtimeMs === was.mtimeMs : now.size >= was.size;
}

/** Sends `file`. `status` overrides the status (status_code, or an error route's): then Range and preconditions do not apply. */
export function sendFile(req: FerryRequest, res: ResponseWriter, file: ChosenFile, status: number | undefined): Promise<void> {
  const { headers } = req;
  const { size } = file.info;
  if (file.etag !== undefined) res.setHeader('etag', file.etag);
  if (file.mtimeSeconds !== undefined) res.setHeader('last-modified', new Date(file.mtimeSeconds * 1000).toUTCString());
  if (status === undefined) {
    const pre = evaluatePreconditions(headers, file.etag, file.mtimeSeconds);
    if (pre !== 'serve') {
      res.statusCode = pre;
      // A 304 carries the validators and Vary of the 200 (§15.4.5); neither it nor a 412 has a body.
      res.end();
      return DONE;
    }
  }
  if (file.encoding !== undefined) res.setHeader('content-encoding', file.encoding);
  res.setHeader('content-type', file.contentType);
  let start = 0;
  let end = size - 1;
  res.statusCode = status ?? 200;
  const rangeField = status === undefined && req.method === 'GET' ? headers.range : undefined;
  if (rangeField !== undefined && ifRangeHolds(headers['if-range'] as string | undefined, file.etag, file.mtimeSeconds)) {
    const range = parseRange(rangeField, size);
    if (range.kind === 'unsatisfiable') {
      // §15.5.17: the current length, so the client can ask again.
      res.statusCode = 416;
      res.removeHeader('content-type');
      res.removeHeader('content-encoding');
      res.setHeader('content-range', `bytes */${size}`);
      res.setHeader('content-length', 0);
      res.end();
      return DONE;
    }
    if (range.kind === 'partial') {
      ({ start, end } = range);
      res.statusCode = 206;
      res.setHeader('content-range', `bytes ${start}-${end}/${size}`);
    }
  }
  if (res.statusCode === 200) res.setHeader('accept-ranges', 'bytes');
  const length = end - start + 1;
  res.setHeader('content-length', length);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return DONE;
  }
  return size <= WHOLE_READ_LIMIT ? sendWhole(res, file, start, end) : sendLarge(res, file, start, end);
}

/**
 * Streams bytes `start`..`end` of a file past WHOLE_READ_LIMIT (stream_file.ts), once its
 * descriptor says it is still the file its stat described (stillTheFile): a file replaced
 * (renamed over) between the stat and the open is answered as it is now (sendChanged). Before, a
 * deploy renaming a new asset over the old one sent some clients the old length with the new
 * file's bytes: cut off when the new one was shorter, and when longer a 200 of its first bytes
 * only, under the old ETag — or a 206 of its bytes under the old ETag and length, which a client
 * resuming a download splices into the old file's. One more trip to the thread pool a large file,
 * against the transfer it precedes.
 */
async function sendLarge(res: ResponseWriter, file: ChosenFile, start: number, end: number): Promise<void> {
  const fd = file.opened?.take() ?? (await openFile(file.path));
  let now: Stats;
  try {
    now = await statOf(fd);
  } catch (err) {
    closeSoon(fd);
    throw err;
  }
  if (!stillTheFile(file.info, now, end - start + 1 === file.info.size)) return sendChanged(res, file, fd, now);
  return streamFile(res, { ...file, opened: OpenFile.adopt(fd) }, start, end);
}

/**
 * Sends bytes `start`..`end` of a file of at most WHOLE_READ_LIMIT bytes with one `end()`: open
 * (unless file_server opened it already), one read, close (not waited for) — at most three trips
 * to the thread pool where readFile takes four (it stats the file again). 100 KiB files, one
 * core: 112–148 → 95–129 µs of CPU a response. The buffer is the response's own, freed once
 * written: pooled 256 KiB buffers lent to the writer until end() called back were slower with 64
 * connections (1 KiB files: 97–102 → 116–136 µs; the pool of 32 churned) — stream_file.ts is
 * where reuse pays.
 */
async function sendWhole(res: ResponseWriter, file: ChosenFile, start: number, end: number): Promise<void> {
  const length = end - start + 1;
  // One byte more than the whole file: a file that grew since its stat shows as one.
  const want = length === file.info.size ? length + 1 : length;
  const buf = Buffer.allocUnsafe(want);
  // The descriptor file_server checked (open_file.ts), and only it: a second open by path could
  // find a symlink swapped in since the check.
  const fd = file.opened?.take() ?? (await openFile(file.path));
  let n: number;
  try {
    n = await readAt(fd, buf, want, start);
  } catch (err) {
    // A FIFO renamed over the file since its stat refuses positioned reads (ESPIPE): a changed file.
    const now = await statOf(fd).catch(() => undefined);
    if (now !== undefined && !now.isFile()) return sendChanged(res, file, fd, now);
    closeSoon(fd);
    throw err;
  }
  if (n !== length) return sendChanged(res, file, fd, await statOf(fd).catch(() => undefined));
  if (length !== file.info.size) {
    // A range: bytes of another file renamed over this one would be spliced into this one's by a
    // client resuming a download (its length and validators are this one's). A whole file read
    // to its end needs no stat: it is whatever file was read, and one of another size shows.
    const now = await statOf(fd).catch(() => undefined);
    if (now === undefined || !stillTheFile(file.info, now, false)) return sendChanged(res, file, fd, now);
  }
  closeSoon(fd);
  // Freed once a lendable writer is done with it: left to the collector, 100 KiB files drove
  // Node 24 and 26 into a full mark-compact every ~500 responses (release_reads.ts).
  res.end(buf.subarray(0, n), res.lendable ? releaseWhenWritten(buf) : undefined);
}

/**
 * The file (open as `fd`, now this function's to close) changed between stat and read: what it
 * holds now (`now`: the descriptor's stats), in full. Up to WHOLE_READ_LIMIT it is read whole
 * (those bytes at most, whatever it grows to meanwhile), past it streamed — a small file replaced
 * by a large one since the stat is never read into memory whole. The validators, taken from the
 * stat, are dropped: they describe the file that was replaced. A range is a 200 of the whole
 * file, as a server may ignore Range (RFC 9110 §14.2): its bytes of the new file under the old
 * file's length would be spliced into the old file's. A status_code answer keeps its status. A
 * descriptor that is no longer a regular file (a FIFO renamed over the file between its stat and
 * its open) is 404, as such files always are.
 */
async function sendChanged(res: ResponseWriter, file: ChosenFile, fd: number, now: Stats | undefined): Promise<void> {
  let handed = false;
  try {
    if (now === undefined) throw new Error(`${file.path} changed while it was being served`);
    if (!now.isFile()) throw new HttpError(404);
    // A range's 206 (not a status_code of 206: it keeps its status, as any other).
    if (res.hasHeader('content-range')) {
      res.statusCode = 200;
      res.removeHeader('content-range');
      res.setHeader('accept-ranges', 'bytes');
    }
    res.removeHeader('etag');
    res.removeHeader('last-modified');
    if (now.size > WHOLE_READ_LIMIT) {
      res.setHeader('content-length', now.size);
      handed = true;
      return await streamFile(res, { ...file, info: now, opened: OpenFile.adopt(fd) }, 0, now.size - 1);
    }
    const buf = Buffer.allocUnsafe(now.size);
    const n = now.size === 0 ? 0 : await readAt(fd, buf, now.size, 0);
    res.setHeader('content-length', n);
    res.end(buf.subarray(0, n));
  } finally {
    if (!handed) closeSoon(fd);
  }
}
