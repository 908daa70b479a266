/** Reading a response body in a test: all of it at once, or its text as it arrives. */
import type { Readable } from 'node:stream';

/** Collects a readable into one Buffer. */
export async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

/** How `collectSlowly` stops: after each `every` bytes, for `ms` milliseconds (`firstMs` the first time). */
export interface Stops {
  every: number;
  ms?: number;
  firstMs?: number;
}

/**
 * Collects a readable into one Buffer, pausing it now and then (with `stops`) so that whoever
 * writes it must wait: a slow reader. Without `stops` it reads as fast as it can.
 */
export function collectSlowly(stream: Readable, stops?: Stops): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let sinceStop = 0;
    let stopped = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      sinceStop += chunk.length;
      if (stops && sinceStop >= stops.every) {
        sinceStop = 0;
        stream.pause();
        const ms = stops.ms ?? 3;
        setTimeout(() => stream.resume(), stopped++ === 0 ? (stops.firstMs ?? ms) : ms);
      }
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Reads `stream`, calling `onChunk` with each chunk's text as it arrives; resolves at its end. */
export function onChunks(stream: NodeJS.ReadableStream, onChunk: (text: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', (c: Buffer) => onChunk(c.toString()));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

/** Collects a readable's text and lets a test await what it expects to arrive next. */
export class TextCollector {
  text = '';
  ended = false;
  error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      this.text += s;
      this.#wake?.();
    });
    stream.on('end', () => {
      this.ended = true;
      this.#wake?.();
    });
    stream.on('error', (err: Error) => {
      this.error = err;
      this.#wake?.();
    });
    stream.on('close', () => {
      this.#wake?.();
    });
  }

  /** Resolves once `pred(text)` holds; rejects if the stream ends first or after `ms`. */
  async until(pred: (text: string) => boolean, ms = 3000, what = pred.toString()): Promise<string> {
    const deadline = performance.now() + ms;
    while (!pred(this.text)) {
      if (this.ended || this.error) throw new Error(`stream ended before ${what}; got ${JSON.stringify(this.text.slice(-300))}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`not within ${ms}ms: ${what}; got ${JSON.stringify(this.text.slice(-300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.text;
  }

  /** Resolves once `text` has arrived. */
  contains(text: string, ms?: number): Promise<string> {
    return this.until((t) => t.includes(text), ms, JSON.stringify(text));
  }
}
