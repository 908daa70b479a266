/**
 * Content-Type sniffing for responses a handler wrote without one, after the WHATWG MIME
 * sniffing algorithm as Go's `http.DetectContentType` applies it (which Caddy inherits).
 * Only the first 512 bytes are looked at.
 */

const HTML_TAGS = [
  '<!DOCTYPE HTML',
  '<HTML',
  '<HEAD',
  '<SCRIPT',
  '<IFRAME',
  '<H1',
  '<DIV',
  '<FONT',
  '<TABLE',
  '<A',
  '<STYLE',
  '<TITLE',
  '<B',
  '<BODY',
  '<BR',
  '<P',
  '<!--',
];

const MAGIC: [number[], string][] = [
  [[0x25, 0x50, 0x44, 0x46, 0x2d], 'application/pdf'],
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'image/png'],
  [[0x47, 0x49, 0x46, 0x38, 0x37, 0x61], 'image/gif'],
  [[0x47, 0x49, 0x46, 0x38, 0x39, 0x61], 'image/gif'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x1f, 0x8b, 0x08], 'application/x-gzip'],
  [[0x50, 0x4b, 0x03, 0x04], 'application/zip'],
  [[0x00, 0x61, 0x73, 0x6d], 'application/wasm'],
  [[0x1a, 0x45, 0xdf, 0xa3], 'video/webm'],
  [[0x4f, 0x67, 0x67, 0x53, 0x00], 'application/ogg'],
  [[0xef, 0xbb, 0xbf], 'text/plain; charset=utf-8'],
  [[0xfe, 0xff], 'text/plain; charset=utf-16be'],
  [[0xff, 0xfe], 'text/plain; charset=utf-16le'],
];

function startsWith(buf: Uint8Array, sig: number[], at = 0): boolean {
  if (buf.length - at < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (buf[at + i] !== sig[i]) return false;
  return true;
}

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;
}

/** The Content-Type a browser would sniff from the first bytes of a body. */
export function sniffContentType(data: Uint8Array | string): string {
  const buf = typeof data === 'string' ? Buffer.from(data.slice(0, 512)) : data.subarray(0, 512);
  let i = 0;
  while (i < buf.length && isWs(buf[i]!)) i++;
  if (buf[i] === 0x3c /* < */) {
    for (const tag of HTML_TAGS) {
      const end = i + tag.length;
      if (end >= buf.length) continue;
      let ok = true;
      for (let k = 0; k < tag.length && ok; k++) {
        const c = buf[i + k]!;
        ok = (c >= 0x61 && c <= 0x7a ? c - 0x20 : c) === tag.charCodeAt(k);
      }
      const after = buf[end]!;
      if (ok && (after === 0x20 || after === 0x3e)) return 'text/html; charset=utf-8';
    }
    if (startsWith(buf, [0x3c, 0x3f, 0x78, 0x6d, 0x6c], i)) return 'text/xml; charset=utf-8';
  }
  for (const [sig, type] of MAGIC) if (startsWith(buf, sig)) return type;
  if (startsWith(buf, [0x52, 0x49, 0x46, 0x46]) && startsWith(buf, [0x57, 0x45, 0x42, 0x50, 0x56, 0x50], 8)) return 'image/webp';
  for (let k = 0; k < buf.length; k++) {
    const b = buf[k]!;
    // Binary data bytes per the WHATWG sniffing spec.
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) return 'application/octet-stream';
  }
  return 'text/plain; charset=utf-8';
}
