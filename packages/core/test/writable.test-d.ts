/**
 * Type tests: compiled by `tsc -b` (`pnpm typecheck`, part of `pnpm test` and CI), never run. A
 * `ResponseWriter` — the writer a handler gets, and a `ResponseWriterWrapper` subclass — goes to
 * Node's stream functions as a writable stream without a cast, and `FerryRequest.body` is a
 * `Readable`. A wrong expectation here fails the type check (pipelineIntoAString below proves
 * the check is live: without its `@ts-expect-error`, the build fails).
 */
import { createReadStream } from 'node:fs';
import { finished, pipeline, Readable } from 'node:stream';
import { finished as finishedPromise, pipeline as pipelinePromise } from 'node:stream/promises';
import { expectTypeOf } from 'vitest';
import { ResponseWriterWrapper, type Middleware, type ResponseWriter } from '../src/index.js';

/** A wrapper as a module author writes one. */
class Stamping extends ResponseWriterWrapper {
  constructor(inner: ResponseWriter) {
    super(inner);
    inner.onHead(() => this.setHeader('x-stamp', '1'));
  }
}

export const sendFile: Middleware = async (req, res) => {
  expectTypeOf(req.body).toEqualTypeOf<Readable>();
  expectTypeOf(res).toExtend<NodeJS.WritableStream>();
  expectTypeOf(res.onHead).parameter(0).toEqualTypeOf<() => void>();

  // node:stream/promises: the writable overload, so the promise is of void.
  expectTypeOf(pipelinePromise(createReadStream('file'), res)).toEqualTypeOf<Promise<void>>();
  expectTypeOf(pipelinePromise(req.body, res)).toEqualTypeOf<Promise<void>>();
  await finishedPromise(res);

  // node:stream's callback forms, and pipe.
  pipeline(createReadStream('file'), res, (err) => expectTypeOf(err).toEqualTypeOf<NodeJS.ErrnoException | null>());
  finished(res, (err) => expectTypeOf(err).toEqualTypeOf<NodeJS.ErrnoException | null | undefined>());
  expectTypeOf(Readable.from(['a']).pipe(res)).toEqualTypeOf<ResponseWriter>();

  // The same through a wrapper subclass.
  const wrapped = new Stamping(res);
  expectTypeOf(wrapped).toExtend<ResponseWriter>();
  expectTypeOf(pipelinePromise(createReadStream('file'), wrapped)).toEqualTypeOf<Promise<void>>();
  await finishedPromise(wrapped);
  pipeline(req.body, wrapped, () => {});
  expectTypeOf(Readable.from(['a']).pipe(wrapped)).toEqualTypeOf<Stamping>();
};

export function pipelineIntoAString(text: string): Promise<void> {
  // @ts-expect-error a string is no writable stream: this line must be an error for the file to compile
  return pipelinePromise(createReadStream('file'), text);
}
