// The bodies of the proxy scenario, the same in the upstream that serves them and in the
// harness that checks what each proxy delivers.

/** 64 KiB: the large response and the large request body. */
export const LARGE = 64 * 1024;

/**
 * `size` bytes from a fixed-seed xorshift generator: incompressible and identical on every run,
 * so a proxy that drops, reorders or re-encodes a byte is caught by a byte-exact comparison.
 */
export function deterministicBytes(size, seed = 0x9e3779b9) {
  const bytes = Buffer.allocUnsafe(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** The upstream's paths: the 13-byte hello, 64 KiB of bytes, an upload it counts, an echo. */
export const PATHS = { hello: '/hello', large: '/64k', upload: '/upload', echo: '/echo', json: '/data.json' };

/** What the upstream answers to an upload: how many bytes it received. */
export const uploadAnswer = (bytes) => `received ${bytes} bytes`;
