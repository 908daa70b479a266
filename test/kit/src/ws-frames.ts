/**
 * A tiny WebSocket frame codec (RFC 6455 §5.2), just what the field-lesson tests need: single
 * unfragmented frames, client→server masked (§5.3), server→client unmasked. Real frames, so the
 * tests speak the protocol a browser would over an RFC 8441 extended CONNECT stream.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

export const OP_TEXT = 0x1;
export const OP_CLOSE = 0x8;

export interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** One frame; `mask` for frames a client sends. */
export function encodeFrame(payload: Buffer | string, options: { mask: boolean; opcode?: number }): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const lenBytes = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lenBytes + (options.mask ? 4 : 0));
  head[0] = 0x80 | (options.opcode ?? OP_TEXT); // FIN + opcode
  head[1] = (options.mask ? 0x80 : 0) | (lenBytes === 0 ? len : lenBytes === 2 ? 126 : 127);
  if (lenBytes === 2) head.writeUInt16BE(len, 2);
  if (lenBytes === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!options.mask) return Buffer.concat([head, data]);
  const key = randomBytes(4);
  key.copy(head, 2 + lenBytes);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([head, body]);
}

/** Reassembles frames from a byte stream that may split or join them anywhere. */
export class FrameReader {
  #buf = Buffer.alloc(0);

  /** Feeds bytes; returns the frames they completed, payloads unmasked. */
  push(chunk: Buffer): Frame[] {
    this.#buf = Buffer.concat([this.#buf, chunk]);
    const frames: Frame[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) break;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      const keyAt = at;
      if (masked) at += 4;
      if (b.length < at + len) break;
      const payload = Buffer.from(b.subarray(at, at + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= b[keyAt + (i & 3)]!;
      frames.push({ fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, masked, payload });
      this.#buf = b.subarray(at + len);
    }
    return frames;
  }
}

/** Resolves with the next complete frame read from `stream` (a server's frames, unmasked). */
export function nextFrame(stream: Readable, reader = new FrameReader()): Promise<Frame> {
  return new Promise((resolve) => {
    const onData = (c: Buffer) => {
      const [f] = reader.push(c);
      if (f) {
        stream.off('data', onData);
        resolve(f);
      }
    };
    stream.on('data', onData);
  });
}
