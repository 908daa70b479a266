import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { HttpError } from '../errors.js';
import { cutShort, tooLarge } from './errors.js';
import type { BodyState } from './state.js';

/** What one `formData()` call allows. */
export interface FormLimits {
  /** Bytes of the whole body. */
  limit: number;
  fields: number;
  files: number;
  fieldNameSize: number;
}

/** One entry, in the order its part came; a file's bytes arrive after its entry is made. */
type Entry = { name: string; value: string } | { name: string; chunks: Buffer[]; filename: string; type: string };

/**
 * Parses an urlencoded or multipart/form-data body with busboy into a WHATWG FormData (file
 * parts as `File`s, held in memory). Every limit is a refusal, never a truncation: busboy cuts
 * long values and drops fields past its counts silently, so each of those signals is a 413 here.
 * Field names are FormData entries, never object keys: `__proto__` is just a name.
 */
export function parseForm(state: BodyState, stream: Readable, contentType: string, lim: FormLimits): Promise<FormData> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        // busboy's counts are reached, not passed, when it signals them: one over ours, so ours decide.
        limits: {
          fieldNameSize: lim.fieldNameSize,
          fieldSize: lim.limit + 1,
          fileSize: lim.limit + 1,
          fields: lim.fields + 1,
          files: lim.files + 1,
          parts: lim.fields + lim.files + 1,
        },
        // Browsers send file names as raw UTF-8; busboy's default reads them as latin1.
        defParamCharset: 'utf8',
      });
    } catch (err) {
      reject(new HttpError(400, 'malformed form Content-Type (a multipart body needs its boundary)', { cause: err }));
      return;
    }
    const entries: Entry[] = [];
    let size = 0;
    let fields = 0;
    let files = 0;
    let settled = false;
    const resume = () => stream.resume();
    const detach = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      bb.off('drain', resume);
    };
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      detach();
      if (!stream.readableEnded) {
        stream.pause();
        state.abandon();
      }
      bb.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > lim.limit) return fail(tooLarge(lim.limit));
      if (!bb.write(chunk)) {
        stream.pause();
        bb.once('drain', resume);
      }
    };
    const onEnd = () => bb.end();
    const onError = (err: unknown) => fail(err instanceof HttpError ? err : cutShort(err));
    const onClose = () => {
      if (!stream.readableEnded) onError(new Error('body stream closed before its end'));
    };
    const tooMany = (what: string, max: number) => () => fail(new HttpError(413, `request body has more than ${max} ${what}`));
    const tooManyFields = tooMany('form fields', lim.fields);
    const tooManyFiles = tooMany('files', lim.files);

    bb.on('field', (name: string | undefined, value: string | undefined, info: busboy.FieldInfo) => {
      if (++fields > lim.fields) return tooManyFields();
      if (info.nameTruncated) return fail(new HttpError(413, `form field name longer than ${lim.fieldNameSize} bytes`));
      if (info.valueTruncated) return fail(tooLarge(lim.limit));
      if (name === undefined) return fail(new HttpError(400, 'malformed multipart body: a part without a name'));
      if (value === undefined) return fail(new HttpError(415, 'form field charset is not supported'));
      entries.push({ name, value });
    });
    bb.on('file', (name: string | undefined, file: Readable, info: busboy.FileInfo) => {
      file.on('error', () => {}); // busboy reports the same failure on itself
      if (++files > lim.files) return tooManyFiles();
      if (name === undefined) return fail(new HttpError(400, 'malformed multipart body: a part without a name'));
      // basename only (busboy's preservePath is off): a client's "../../x" names no path here.
      const entry = { name, chunks: [] as Buffer[], filename: info.filename ?? 'blob', type: info.mimeType };
      entries.push(entry);
      file.on('data', (c: Buffer) => entry.chunks.push(c));
      file.on('limit', () => fail(tooLarge(lim.limit)));
    });
    bb.on('fieldsLimit', tooManyFields);
    bb.on('filesLimit', tooManyFiles);
    bb.on('partsLimit', tooMany('parts', lim.fields + lim.files));
    bb.on('error', (err: unknown) => fail(new HttpError(400, 'malformed form body', { cause: err })));
    bb.on('close', () => {
      if (settled) return;
      settled = true;
      detach();
      resolve(toFormData(entries));
    });

    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function toFormData(entries: readonly Entry[]): FormData {
  const form = new FormData();
  for (const e of entries) {
    if ('value' in e) form.append(e.name, e.value);
    else form.append(e.name, new File(e.chunks, e.filename, { type: e.type }));
  }
  return form;
}
