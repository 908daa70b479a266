import type { OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';

/** A callback `res.onHead` runs just before the response head goes out. */
export type HeadCallback = () => void;

/** What head callbacks threw: a writer tells them from other errors of the call that sent the head. */
const headErrors = new WeakSet<object>();

/**
 * The callbacks `onHead` registered on one writer, run once when its head goes out: the most
 * recently registered first, so a middleware that registered before calling `next` sees what
 * the handlers after it decided in theirs (the order of the `on-headers` package, and of nested
 * wrappers: an inner writer's head is decided before the outer one's).
 *
 * Writers keep one only once `onHead` is called: a response without callbacks allocates nothing.
 * A wrapper that holds the head back (it decides the head later than the writer underneath, as
 * `encode` does) keeps its own and runs it where it decides.
 */
export class HeadCallbacks {
  #list: HeadCallback[] = [];

  add(fn: HeadCallback): void {
    if (typeof fn !== 'function') throw new TypeError('onHead takes a function');
    this.#list.push(fn);
  }

  /**
   * Runs every callback once, most recent first; one that a callback registers runs after that
   * round, still before the head. A callback that throws stops the run: the ones not yet run
   * are dropped and the error goes to the caller, so the head is not sent.
   */
  run(): void {
    let list = this.#list;
    try {
      while (list.length > 0) {
        this.#list = [];
        for (let i = list.length - 1; i >= 0; i--) list[i]!();
        list = this.#list;
      }
    } catch (err) {
      this.#list = [];
      if (typeof err === 'object' && err !== null) headErrors.add(err);
      throw err;
    }
  }
}

/**
 * A head callback threw inside `write` or `end`. Called by a handler, the call throws it (an
 * ordinary error, for the error routes). Called from a stream's event (`pipeline`, `pipe`: the
 * response has 'error' listeners then), a throw would escape the event and end the process: the
 * error becomes the response's 'error' instead, which `pipeline` rejects with. Returns `false`, as
 * a `write` that failed does.
 */
export function headFailed(res: NodeJS.EventEmitter, err: unknown): false {
  if (typeof err === 'object' && err !== null && headErrors.has(err) && res.listenerCount('error') > 0) {
    res.emit('error', err);
    return false;
  }
  throw err;
}

/** What a writer's `writeHead` changes before its head is built: status, reason and header fields. */
interface HeadTarget {
  statusCode: number;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  appendHeader(name: string, value: string | readonly string[]): unknown;
  removeHeader(name: string): void;
}

/**
 * Folds `writeHead(status, [reason,] headers)`'s arguments into the writer's own fields, so that
 * head callbacks see (and may change or remove) them: an object sets each field, a raw array
 * (`[name, value, …]` or `[[name, value], …]`) replaces the names it lists and keeps its
 * duplicates, as Node's `writeHead` does. Returns the reason phrase, if one was given.
 */
export function foldHead(
  res: HeadTarget,
  statusCode: number,
  a?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
  b?: OutgoingHttpHeaders | OutgoingHttpHeader[],
): string | undefined {
  const headers = typeof a === 'string' ? b : a;
  res.statusCode = statusCode;
  if (Array.isArray(headers)) {
    const pairs: [string, string | string[]][] = [];
    if (Array.isArray(headers[0])) for (const p of headers as unknown as [string, string][]) pairs.push([String(p[0]), p[1]]);
    else for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), headers[i + 1] as string | string[]]);
    for (const [name] of pairs) res.removeHeader(name);
    for (const [name, value] of pairs) res.appendHeader(name, typeof value === 'number' ? String(value) : value);
  } else if (headers) {
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
  }
  return typeof a === 'string' ? a : undefined;
}
