import { finished, type Readable, type Writable } from 'node:stream';
import { releaseAfterWrite, startReleasing } from '@ferry/core/internal';

/**
 * Copies `src` into `dst` as `pipeline(src, dst)` does: with backpressure, `dst` ended when `src`
 * ends, both destroyed when either fails or closes early, `done` called once (with that error, or
 * none once `dst` finished). Unlike pipeline, it writes with a callback, so that each read only
 * Ferry got is freed once `dst` took it (@ferry/core's release_reads.ts): a WebSocket relaying
 * 16 KiB messages otherwise spent a fifth of its main thread's busy time collecting them (Node 26).
 */
export function relay(src: Readable, dst: Writable, done: (err: Error | null) => void): void {
  const free = startReleasing(src);
  const onData = (chunk: Buffer) => {
    if (!dst.write(chunk, free ? releaseAfterWrite(src, chunk) : undefined)) src.pause();
  };
  const onDrain = () => src.resume();
  const onEnd = () => dst.end();
  let settled = false;
  const settle = (err?: Error | null) => {
    if (settled) return;
    settled = true;
    stopSrc();
    stopDst();
    src.removeListener('data', onData);
    src.removeListener('end', onEnd);
    dst.removeListener('drain', onDrain);
    if (err) {
      src.destroy();
      dst.destroy();
    }
    done(err ?? null);
  };
  src.on('data', onData);
  src.once('end', onEnd);
  dst.on('drain', onDrain);
  const stopSrc = finished(src, { writable: false }, (err) => err && settle(err));
  const stopDst = finished(dst, { readable: false }, settle);
}
