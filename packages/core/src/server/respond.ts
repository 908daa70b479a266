import { STATUS_CODES } from 'node:http';
import { HttpError } from '../errors.js';
import type { Logger } from '../log.js';
import type { FerryRequest } from '../request.js';
import { DONE, type Handler, type Middleware, type ResponseWriter } from '../types.js';
import { dropHeadCallbacks } from '../writer.js';

/**
 * Where a request goes when its chain ends without answering, instead of the empty 200: set by
 * toNodeHandler to Connect's `next`, so the app Ferry is mounted in carries on.
 */
export const fallthroughs = new WeakMap<FerryRequest, Handler>();

/** The end of the chain: nothing more to do (or the fall-through of a mounted Ferry). */
const END: Handler = (req, res) => fallthroughs.get(req)?.(req, res) ?? DONE;

/**
 * The end of the error routes, Caddy's errorEmptyHandler: error routes that answer nothing still
 * send the error's status (with an empty body), not the empty 200 of the main chain.
 */
const ERROR_END: Handler = async (req, res) => {
  if (!res.headersSent) res.statusCode = req.error?.status ?? 500;
};

/**
 * The handler a server serves with: the compiled chain, then what becomes of a request after it —
 * a thrown error goes to the error routes (or a plain-text error), an unfinished response is ended.
 * Its promise never rejects: what fails while finishing is logged and the response destroyed here.
 */
export function serveChain(chain: Middleware, errors: Middleware | undefined, logger: Logger): Handler {
  const unhandled = (res: ResponseWriter, err: unknown) => {
    logger.error({ err }, 'unhandled error while finishing a response');
    if (!res.destroyed) res.destroy();
  };
  const finish = (req: FerryRequest, res: ResponseWriter) => {
    try {
      finishResponse(req, res);
    } catch (err) {
      unhandled(res, err);
    }
  };
  // A chain still running: one reaction when it settles (an async function here made a promise
  // and carried the result through two more reactions, and dispatch a third to catch).
  const slow = (req: FerryRequest, res: ResponseWriter, pending: Promise<void>) =>
    pending.then(
      () => finish(req, res),
      (err: unknown) =>
        handleError(req, res, err, errors, logger).then(
          () => finish(req, res),
          (again: unknown) => unhandled(res, again),
        ),
    );
  return (req, res) => {
    let pending: Promise<void>;
    try {
      pending = chain(req, res, END);
    } catch (err) {
      pending = Promise.reject(err);
    }
    // Handlers that finish synchronously return the shared DONE: no promise is made or awaited.
    if (pending !== DONE) return slow(req, res, pending);
    finish(req, res);
    return DONE;
  };
}

/** Turns a thrown value into a response: the error routes, or the status and a short plain-text body. */
async function handleError(
  req: FerryRequest,
  res: ResponseWriter,
  err: unknown,
  errors: Middleware | undefined,
  logger: Logger,
): Promise<void> {
  const he = HttpError.from(err);
  if (he.status >= 500)
    logger.error(
      { err: err instanceof HttpError && err.cause ? err.cause : err, method: req.method, uri: req.url, status: he.status },
      'handler error',
    );
  else logger.debug({ method: req.method, uri: req.url, status: he.status, msg: he.message }, 'handler error');
  if (res.headersSent || res.hijacked) {
    // Too late for an error page: abort, so the client never mistakes a cut response for a whole one.
    if (!res.writableEnded) res.destroy();
    return;
  }
  // The chain failed: what it asked of the head (deferred header ops, onHead callbacks) was for
  // the response it did not finish, not for the error response.
  (res as Partial<Record<typeof dropHeadCallbacks, () => void>>)[dropHeadCallbacks]?.();
  if (errors) {
    req.error = he;
    // Error routes that write nothing still answer with the error's status (Caddy's errorEmptyHandler).
    res.statusCode = he.status;
    try {
      await errors(req, res, ERROR_END);
      return;
    } catch (again) {
      logger.error({ err: again }, 'error route failed');
      if (res.headersSent) {
        if (!res.writableEnded) res.destroy();
        return;
      }
    }
  }
  writeErrorResponse(res, he);
}

/**
 * The status and a short plain-text body (the message when it may be shown), replacing any header
 * set so far but the CORS fields and Vary — a page allowed to read the answer reads the error too —
 * and Allow, which a 405 must carry (RFC 9110 §15.5.6).
 */
export function writeErrorResponse(res: ResponseWriter, he: HttpError): void {
  for (const name of res.getHeaderNames()) if (!keptOnError(name)) res.removeHeader(name);
  const body = `${he.expose ? he.message : (STATUS_CODES[he.status] ?? 'Error')}\n`;
  res.statusCode = he.status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('x-content-type-options', 'nosniff');
  res.end(body);
}

function keptOnError(name: string): boolean {
  return name === 'vary' || name === 'allow' || name.startsWith('access-control-');
}

/** After the chain: a response nobody wrote is Caddy's empty 200; a CONNECT nobody handled is 501. */
function finishResponse(req: FerryRequest, res: ResponseWriter): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.hijacked) return;
  if (!res.headersSent && req.isConnect) {
    res.statusCode = 501;
    res.end();
    return;
  }
  res.end();
}
