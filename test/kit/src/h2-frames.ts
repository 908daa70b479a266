/**
 * A raw HTTP/2 client, frame by frame, for tests that must do what well-behaved clients refuse
 * to: open more streams than the server allows, send any method token. Headers are HPACK
 * literals without indexing or Huffman coding (RFC 7541 §6.2.2), which every decoder accepts.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, GOAWAY: 0x7, WINDOW_UPDATE: 0x8 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const out = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

function literal(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]);
}

/** A header block of literals without indexing: `[[':method', 'GET'], …]`. */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), literal(name), literal(value)]));
}

/** A raw connection speaking HTTP/2 frames; every frame received is parsed and kept. */
export class RawH2 {
  readonly frames: Frame[] = [];
  closed = false;
  #buf = Buffer.alloc(0);
  #waiters = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, chunk]);
      while (this.#buf.length >= 9) {
        const len = this.#buf.readUIntBE(0, 3);
        if (this.#buf.length < 9 + len) break;
        const f = {
          type: this.#buf[3]!,
          flags: this.#buf[4]!,
          stream: this.#buf.readUInt32BE(5) & 0x7fffffff,
          payload: this.#buf.subarray(9, 9 + len),
        };
        this.#buf = this.#buf.subarray(9 + len);
        // The server's SETTINGS are acknowledged, so what it announced is in force (RFC 9113 §6.5.3).
        if (f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)) socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        this.frames.push(f);
      }
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Connects, sends the preface and empty SETTINGS, and waits for the server's SETTINGS. */
  static async open(port: number): Promise<RawH2> {
    const socket = connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const c = new RawH2(socket);
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
    await c.until(() => c.frames.some((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK)));
    return c;
  }

  /** The server's SETTINGS parameters, by identifier (RFC 9113 §6.5.2). */
  get settings(): Map<number, number> {
    const out = new Map<number, number>();
    for (const f of this.frames) {
      if (f.type !== FRAME.SETTINGS || f.flags & FLAG.ACK) continue;
      for (let i = 0; i + 6 <= f.payload.length; i += 6) out.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
    }
    return out;
  }

  /** Sends a bodyless request on `stream` (an odd id, increasing). */
  request(stream: number, fields: readonly (readonly [string, string])[]): void {
    this.socket.write(frame(FRAME.HEADERS, FLAG.END_STREAM | FLAG.END_HEADERS, stream, headerBlock(fields)));
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  /** Resolves once `test()` holds; rejects if the connection closes first or after `ms`. */
  until(test: () => boolean, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`raw h2: condition not met within ${ms}ms`)), ms);
      const check = () => {
        if (test()) done();
        else if (this.closed) done(new Error('raw h2: connection closed before the condition held'));
      };
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
