import type { Readable } from 'node:stream';
import type { Cancel } from './cancel.js';
import type { HeaderRecord } from './hop.js';
import type { ParsedConfig } from './schema.js';
import { h2cTransport } from './transport/h2c.js';
import { http1Transport } from './transport/http1.js';
import type { Upstream } from './upstream.js';

// How requests reach the upstreams (Caddy's `httptransport.go`): one transport per upstream
// protocol, in transport/, behind one interface; the handler only ever calls roundTrip.

/** The `transport` options, parsed (durations in ms). */
export type TransportConfig = ParsedConfig['transport'];

/** One request to an upstream. */
export interface OutRequest {
  method: string;
  path: string;
  headers: HeaderRecord;
  body: Readable | null;
  /** The client going away (or a probe's timeout) ends the round trip. */
  cancel: Cancel;
}

/** Where a response goes, callback by callback; `data` returning false means "pause until resume()". */
export interface ResponseSink {
  informational(status: number, headers: HeaderRecord): void;
  /**
   * The final head. `checked`: each name is a lower-case token and each value holds nothing Node
   * refuses in a field (what the HTTP/1.1 parser checked, h1-head.ts): no second check needed.
   */
  head(status: number, headers: HeaderRecord, statusText: string, checked?: boolean): void;
  /**
   * A piece of the body. With `hold`, the chunk is lent (a reused read buffer): valid only until
   * `data` returns, unless `hold()` was called — then until the function it returns is called.
   * Without `hold` the chunk is the sink's to keep.
   */
  data(chunk: Buffer, resume: () => void, hold?: () => () => void): boolean;
  end(): void;
}

/**
 * Sends `out` and streams the answer into `sink`. Rejects with a RoundTripError only before
 * `sink.head` was called; a failure after that rejects with a MidBodyError so the caller
 * aborts the client's response instead of retrying.
 */
export type RoundTrip = (up: Upstream, out: OutRequest, sink: ResponseSink) => Promise<void>;

export interface Transport {
  roundTrip: RoundTrip;
  /** Lets go of an upstream no longer used: its connections close once its requests are done. */
  release: (up: Upstream) => void;
  close: () => Promise<void>;
}

/** `versions`: with `h2c` listed, every upstream is spoken to in cleartext HTTP/2 by prior knowledge; else HTTP/1.1. */
export function createTransport(cfg: TransportConfig): Transport {
  return cfg.versions.includes('h2c') ? h2cTransport(cfg) : http1Transport(cfg);
}
