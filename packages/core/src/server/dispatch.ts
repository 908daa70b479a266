import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { HttpError } from '../errors.js';
import { type Arrival, FerryRequest } from '../request.js';
import { adoptTarget } from '../target.js';
import type { Handler, Protocol, ResponseWriter } from '../types.js';
import type { Connections } from './connections.js';
import type { Generation } from './generation.js';
import type { RequestObserver } from './observe.js';
import { fallthroughs, writeErrorResponse } from './respond.js';

/** A request in, from any listener: it becomes one FerryRequest and one ResponseWriter, and runs the chain. */
export type Dispatch = (
  raw: IncomingMessage | Http2ServerRequest,
  res: ResponseWriter,
  protocol: Protocol,
  secure: boolean,
  arrival: Arrival,
  /** Where the request goes if the chain ends without answering (toNodeHandler's Connect `next`). */
  fallthrough?: Handler,
) => void;

/** What a server's dispatch reads, bound once. */
export interface DispatchContext {
  /** The generation taking new requests now; a reload swaps it. */
  generation(): Generation;
  readonly fullDuplex: boolean;
  /** Milliseconds a response may take; 0: no limit. */
  readonly writeTimeout: number;
  readonly connections: Connections;
  readonly observer: RequestObserver;
}

/** The dispatch of one server: every request of every listener goes through it. */
export function dispatcher(ctx: DispatchContext): Dispatch {
  const { fullDuplex, writeTimeout, connections, observer } = ctx;
  return (raw, res, protocol, secure, arrival, fallthrough) => {
    const req = new FerryRequest(raw, res, protocol, secure, arrival);
    if (fallthrough !== undefined) fallthroughs.set(req, fallthrough);
    // Before any matcher: one interpretation of the target for routes, placeholders and upstreams.
    if (!adoptTarget(req)) {
      res.closeAfterResponse();
      writeErrorResponse(res, new HttpError(400, 'malformed request target'));
      return;
    }
    if (fullDuplex) res.enableFullDuplex();
    const gen = ctx.generation();
    gen.enter();
    // A request counts as in flight until its response has closed (all bytes written, or aborted),
    // in the generation (config) that took it: a reload lets it finish there.
    const onClose = observer.whenDone(req, res, observer.metricsOf(gen), gen.settle);
    // `on`, not `once`: a response closes once, and without a log or metrics onClose is the
    // generation's shared settle, so nothing is allocated per request (once() wraps it).
    res.on('close', onClose);
    if (res.hijack !== undefined) settleOnHijack(res, onClose, connections);
    if (connections.closing) res.closeAfterResponse();
    if (writeTimeout > 0) {
      const t = setTimeout(() => {
        if (!res.writableFinished) res.destroy();
      }, writeTimeout);
      res.once('close', () => clearTimeout(t));
    }
    // serveChain's promise never rejects (it logs what fails while finishing): nothing to catch.
    gen.handler(req, res);
  };
}

/** A taken-over connection leaves the request count at once; its socket stays tracked until it closes. */
function settleOnHijack(res: ResponseWriter, onClose: () => void, connections: Connections): void {
  res.onHijack((conn) => {
    connections.addHijacked(conn);
    // The response will never 'close' now (its socket was detached): settle it here.
    res.removeListener('close', onClose);
    onClose();
  });
}
