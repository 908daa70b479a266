import type { FerryRequest, ResponseWriter } from '@ferry/core';

/**
 * What ends a round trip early: the client going away, or a health probe's timeout. Cheaper than
 * an AbortSignal per proxied request (an AbortController, an EventTarget and its listener cost
 * ~3 µs a request in the proxy's profile): the client's side is watched with a listener on the
 * response's `'close'`, and a signal is made only when something asks for one.
 */
export interface Cancel {
  /** True once cancelled. */
  readonly aborted: boolean;
  /** Calls `cb` once when cancelled (not when already cancelled); returns its removal. */
  watch(cb: () => void): () => void;
  /** An AbortSignal for APIs that take one (made on first use). */
  signal(): AbortSignal;
}

/** The client side of one proxied request: cancelled when its response closes before it finished. */
export class ClientCancel implements Cancel {
  readonly #req: FerryRequest;
  readonly #res: ResponseWriter;
  #gone = false;

  constructor(req: FerryRequest, res: ResponseWriter) {
    this.#req = req;
    this.#res = res;
  }

  get aborted(): boolean {
    return this.#gone || (this.#res.destroyed && !this.#res.writableFinished);
  }

  watch(cb: () => void): () => void {
    const res = this.#res;
    const onClose = () => {
      if (res.writableFinished) return;
      this.#gone = true;
      cb();
    };
    res.on('close', onClose);
    return () => res.removeListener('close', onClose);
  }

  signal(): AbortSignal {
    return this.#req.signal;
  }
}

/** A Cancel over an AbortSignal (a probe's `AbortSignal.timeout`). */
export function signalCancel(signal: AbortSignal): Cancel {
  return {
    get aborted() {
      return signal.aborted;
    },
    watch(cb) {
      signal.addEventListener('abort', cb, { once: true });
      return () => signal.removeEventListener('abort', cb);
    },
    signal: () => signal,
  };
}
