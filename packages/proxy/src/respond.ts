import type { ResponseWriter } from '@ferry/core';
import { endToEnd, type HeaderRecord } from './hop.js';
import type { ResponseSink } from './transport.js';

/** The sink a round trip writes into, and the release of its timers once the round trip is over. */
export interface ClientResponse {
  sink: ResponseSink;
  /** Clears the flush timers; safe to call more than once. */
  stop(): void;
}

function isEventStream(headers: HeaderRecord): boolean {
  const t = headers['content-type'];
  return typeof t === 'string' && t.toLowerCase().startsWith('text/event-stream');
}

/**
 * An upstream's ordinary (not upgraded) response on its way to the client (Caddy's
 * `streaming.go`): 1xx passed on, the head (`head` turns the upstream's end-to-end fields into
 * the client's), the body with backpressure, and when buffered bytes are flushed
 * (`flush_interval`: -1 after every write, 0 not periodically, else at most this many ms late).
 */
export function clientResponse(
  res: ResponseWriter,
  flushInterval: number,
  head: (status: number, headers: HeaderRecord) => HeaderRecord,
): ClientResponse {
  let streaming = false;
  let headTimer: NodeJS.Timeout | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(headTimer);
    clearTimeout(flushTimer);
  };
  const sink: ResponseSink = {
    informational(status, headers) {
      if (status !== 101) res.writeInformational(status, endToEnd(headers) as Record<string, string>);
    },
    head(status, headers) {
      const h = head(status, endToEnd(headers));
      streaming = flushInterval === -1 || isEventStream(h) || h['content-length'] === undefined;
      for (const [k, v] of Object.entries(h)) {
        if (v === undefined) continue;
        // Set-Cookie is appended: the cookie selection policy's `lb` cookie is already there.
        if (k === 'set-cookie') res.appendHeader(k, v as string | string[]);
        else res.setHeader(k, v as string | string[]);
      }
      res.statusCode = status;
      if (streaming) res.flush();
      // Headers go out even when the body is slow to start.
      else headTimer = setTimeout(() => res.flush(), flushInterval > 0 ? flushInterval : 100);
    },
    data(chunk, resume) {
      if (headTimer) headTimer = void clearTimeout(headTimer);
      const ok = res.write(chunk);
      if (streaming) res.flush();
      // A positive flush_interval bounds how long written bytes may wait in a wrapper (encode's
      // compressor) before they go out, as Go's maxLatencyWriter does.
      else if (flushInterval > 0 && !flushTimer) {
        flushTimer = setTimeout(() => {
          flushTimer = undefined;
          res.flush();
        }, flushInterval);
      }
      if (!ok) res.once('drain', resume);
      return ok;
    },
    end() {
      stop();
      res.end();
    },
  };
  return { sink, stop };
}
