import { createReadStream } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import { pipeline } from 'node:stream/promises';
import type { ResponseWriter } from '@ferry/core';
import { closeSoon } from './open_file.js';
import { CHUNK, giveBack, openFile, readAt, take } from './read_buffers.js';
import type { ChosenFile } from './send.js';

/**
 * Streams bytes `start`..`end` of a file into a response, with backpressure.
 *
 * Written straight to Node's own response (Ferry's HTTP/1.1 and HTTP/2 writers are one), the file
 * goes through two reused buffers: one is read into while the other is written, and a buffer is
 * read into again only once its write called back (Node has handed the bytes to the connection
 * and keeps no reference). A stream of fresh chunks instead allocates the file's size again per
 * response; V8 counts those as external memory and, once chunks in flight start surviving
 * scavenges, runs a full mark-compact every few responses: 10 MiB files, 8 clients, one core,
 * measured 581 mark-compacts in 22 s, throughput falling from ~140 to ~65 req/s and staying there.
 *
 * Anything else (a wrapper such as encode, which may hold a chunk after its callback) gets a
 * plain read stream piped in: fresh chunks are the only safe ones there.
 */
export function streamFile(res: ResponseWriter, file: ChosenFile, start: number, end: number): Promise<void> {
  if (res instanceof ServerResponse || res instanceof Http2ServerResponse) return streamReused(res, file, start, end);
  return streamFresh(res, file, start, end);
}

/** A writer the reused path may write to: Node's response, as Ferry's own writers are. */
type NodeResponse = ResponseWriter & (ServerResponse | Http2ServerResponse);

async function streamFresh(res: ResponseWriter, file: ChosenFile, start: number, end: number): Promise<void> {
  // A descriptor given to the stream is the stream's: it closes it when it ends or is destroyed.
  const stream = createReadStream(file.path, { fd: file.opened?.take(), start, end, highWaterMark: CHUNK });
  try {
    await pipeline(stream, res);
  } catch (err) {
    // The client went away: nothing to answer, and nothing is wrong with the server.
    if (res.destroyed || res.closed) return;
    throw err;
  }
}

/** Settles when the response called back for `chunk` (handed to the connection), or closed first. */
function writeChunk(res: NodeResponse, chunk: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    res.once('close', onClose);
    const done = (err?: Error | null) => {
      res.removeListener('close', onClose);
      resolve(!err);
    };
    try {
      res.write(chunk, done);
    } catch {
      done(new Error('write refused'));
    }
  });
}

async function streamReused(res: NodeResponse, file: ChosenFile, start: number, end: number): Promise<void> {
  const path = file.path;
  const fd = file.opened?.take() ?? (await openFile(path));
  const buffers = end - start + 1 > CHUNK ? [take(), take()] : [take()];
  // A buffer whose write never called back (the client left) may still be referenced: not reused.
  let clean = true;
  try {
    let pending: Promise<boolean> | undefined;
    for (let pos = start, i = 0; pos <= end; i = (i + 1) % buffers.length) {
      const buf = buffers[i]!;
      // With one buffer, its previous write must be done before it is read into again.
      if (buffers.length === 1 && pending && !(await pending)) return void (clean = false);
      const n = await readAt(fd, buf, Math.min(CHUNK, end - pos + 1), pos);
      if (n === 0) throw new Error(`${path} shrank while it was being served`);
      if (pending && !(await pending)) return void (clean = false);
      if (res.destroyed) return;
      pending = writeChunk(res, n === CHUNK ? buf : buf.subarray(0, n));
      pos += n;
    }
    if (pending && !(await pending)) return void (clean = false);
    res.end();
  } catch (err) {
    clean = false;
    if (res.destroyed || res.closed) return;
    throw err;
  } finally {
    closeSoon(fd);
    if (clean) for (const buf of buffers) giveBack(buf);
  }
}
