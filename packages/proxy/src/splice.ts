import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { relay } from './relay.js';
import type { StreamSettings } from './upgrade.js';
import type { Upstream } from './upstream.js';

/** The two sides of an upgraded connection, once both switched. */
export interface Ends {
  fromClient: Readable;
  toClient: Writable;
  /** The client's side is an h2 stream (RFC 8441): ended, not destroyed, when the splice is over. */
  overH2: boolean;
  upSocket: Socket;
  /** Bytes the upstream sent right after its 101, already written to the client. */
  headBytes: number;
  websocket: boolean;
}

/** A WebSocket close frame with status 1001 "going away" (RFC 6455 §5.5.1, §7.4.1); masked toward a server. */
function goingAway(masked: boolean): Buffer {
  const payload = Buffer.from([0x03, 0xe9]);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, body]);
}

/**
 * Copies bytes both ways until both directions ended; resolves then, after logging the stream's
 * totals. The server stopping (after `stream_close_delay`) or `stream_timeout` closes it first.
 */
export function splice(ends: Ends, up: Upstream, s: StreamSettings): Promise<void> {
  const { fromClient, toClient, upSocket } = ends;
  const started = Date.now();
  // The totals come from the upstream socket's own counters (everything the client sends goes to
  // it, everything it sends after its 101 goes to the client): a 'data' listener beside each
  // relay would cost a call per chunk for the life of the stream, and keep its reads from being
  // freed (@ferry/core's release_reads.ts).
  const upAtStart = { written: upSocket.bytesWritten, read: upSocket.bytesRead };
  const goodbye = { bytes: 0 };
  return new Promise((resolve) => {
    let open = 2;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      if (--open > 0) return;
      for (const t of timers) clearTimeout(t);
      s.stopping.removeEventListener('abort', onStopping);
      const bytesUp = upSocket.bytesWritten - upAtStart.written - goodbye.bytes;
      const bytesDown = ends.headBytes + upSocket.bytesRead - upAtStart.read;
      upSocket.destroy();
      if (!ends.overH2) (toClient as Socket).destroy();
      else toClient.end();
      s.logger.info(
        { upstream: up.dial, bytes_to_upstream: bytesUp, bytes_from_upstream: bytesDown, duration: (Date.now() - started) / 1000 },
        'stream closed',
      );
      resolve();
    };
    // Each direction ends on its own (half-close); an error tears down both.
    relay(fromClient, upSocket, (err) => {
      if (err) {
        upSocket.destroy();
        (toClient as Writable).destroy();
      }
      finish();
    });
    relay(upSocket, toClient, (err) => {
      if (err) {
        upSocket.destroy();
        fromClient.destroy();
      }
      finish();
    });
    const close = closer(ends, timers, goodbye);
    const onStopping = () => {
      timers.push(setTimeout(close, s.streamCloseDelay).unref());
    };
    if (s.stopping.aborted) onStopping();
    else s.stopping.addEventListener('abort', onStopping, { once: true });
    if (s.streamTimeout > 0) timers.push(setTimeout(close, s.streamTimeout).unref());
  });
}

/**
 * Closes the stream before its ends do, once: a WebSocket first says goodbye (1001) to both sides
 * (what it sent the upstream is added to `goodbye`, not counted as the client's bytes).
 */
function closer({ fromClient, toClient, upSocket, websocket }: Ends, timers: NodeJS.Timeout[], goodbye: { bytes: number }): () => void {
  let closing = false;
  return () => {
    if (closing) return;
    closing = true;
    if (websocket) {
      // A clean goodbye on both sides (masked toward the upstream, as a client must).
      if (!toClient.destroyed) toClient.write(goingAway(false));
      if (!upSocket.destroyed) {
        const frame = goingAway(true);
        goodbye.bytes += frame.length;
        upSocket.write(frame);
      }
      timers.push(
        setTimeout(() => {
          upSocket.destroy();
          fromClient.destroy();
          toClient.destroy();
        }, 1000).unref(),
      );
    } else {
      upSocket.destroy();
      toClient.destroy();
    }
  };
}
