/**
 * glibc's heap top kept for Node's reads (packages/core/src/heap_top.ts): once Ferry has forwarded
 * a request body, relayed an upgraded stream or read a body whole, glibc's mmap threshold is raised
 * (and its trim threshold with it), on every Node line. Seen from a fresh process (probe.mjs): an
 * 8 MiB allocation afterwards comes from glibc's heap (nothing new is mapped outside it), where a
 * process that only answered a request without reading its body mmaps it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const PROBE = fileURLToPath(new URL('./probe.mjs', import.meta.url));
const MiB = 1024 * 1024;

/** glibc's, and not set by the environment (which turns glibc's dynamic thresholds off). */
const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header;
const glibcDefaults =
  header.glibcVersionRuntime !== undefined && !Object.keys(process.env).some((k) => k.startsWith('MALLOC_') || k === 'GLIBC_TUNABLES');

/** How much was mapped outside glibc's main heap for an 8 MiB allocation after `mode` in a fresh process. */
async function mappedFor8MiB(mode: 'upload' | 'websocket' | 'text' | 'static'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', PROBE, mode], { timeout: 20_000 });
  const { mapped, filled } = JSON.parse(stdout) as { mapped: number; filled: number };
  expect(filled).toBe(8 * MiB);
  return mapped;
}

// Skipped on another C library (musl has no such thresholds) or where the environment set them
// (glibc then keeps them fixed): there is nothing to observe there.
describe.skipIf(!glibcDefaults)("glibc's thresholds, once Ferry took Node's reads", () => {
  it('a fresh process that answered without reading the body mmaps an 8 MiB block', async () => {
    // 8 MiB and a page, less what other threads unmapped meanwhile.
    expect(await mappedFor8MiB('static')).toBeGreaterThan(4 * MiB);
  });

  it.each(['upload', 'websocket', 'text'] as const)(
    'after one %s (proxied upload, relayed WebSocket, req.text()), an 8 MiB block comes from the heap, not mmap',
    async (mode) => {
      expect(await mappedFor8MiB(mode)).toBeLessThan(2 * MiB);
    },
  );
});
