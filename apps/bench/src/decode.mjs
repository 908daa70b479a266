// Decodes a compressed response body to check it against the source. zstd needs Node 22.15+;
// when the harness's Node lacks it, the zstd command (Debian package `zstd`) or the servers'
// Node (--node) decodes it.
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';
import { findOrInstall } from './tools.mjs';

const decoders = {
  identity: (bytes) => bytes,
  gzip: (bytes) => zlib.gunzipSync(bytes),
  // HTTP's "deflate" is the zlib format (RFC 9110 §8.4.1.2); some servers send raw deflate.
  deflate: (bytes) => {
    try {
      return zlib.inflateSync(bytes);
    } catch {
      return zlib.inflateRawSync(bytes);
    }
  },
  br: (bytes) => zlib.brotliDecompressSync(bytes),
  zstd: (bytes, node) => (zlib.zstdDecompressSync ? zlib.zstdDecompressSync(bytes) : zstdElsewhere(bytes, node)),
};

function zstdElsewhere(bytes, node) {
  const decoded = (run) => (run.status === 0 ? run.stdout : undefined);
  const options = { input: bytes, maxBuffer: 64 * 1024 * 1024 };
  const zstd = findOrInstall('zstd', 'zstd');
  if (zstd.path) return decoded(spawnSync(zstd.path, ['-d', '-c'], options)) ?? fail(`zstd -d could not decode it`);
  const script = "process.stdout.write(require('node:zlib').zstdDecompressSync(require('node:fs').readFileSync(0)))";
  return decoded(spawnSync(node, ['-e', script], options)) ?? fail(`this Node has no zstd, nor has ${node}, and zstd ${zstd.reason}`);
}

function fail(message) {
  throw new Error(message);
}

/** The decoded bytes of `bytes` sent with Content-Encoding `encoding`; throws if it does not decode. */
export function decodeBody(encoding, bytes, node) {
  const decode = decoders[encoding];
  if (!decode) throw new Error(`unknown Content-Encoding ${JSON.stringify(encoding)}`);
  return decode(bytes, node);
}
