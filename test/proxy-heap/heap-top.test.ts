/**
 * glibc's heap top kept for the proxy's reads (packages/proxy/src/heap_top.ts): once Ferry has
 * forwarded a request body or relayed an upgraded stream, glibc's mmap threshold is raised (and its
 * trim threshold with it), on every Node line. Seen from a fresh process (probe.mjs): an 8 MiB
 * allocation afterwards comes from glibc's heap, where a process that served no proxied request
 * mmaps it.
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

/** How much glibc's main heap grew for an 8 MiB allocation after `mode` in a fresh process. */
async function heapGrowth(mode: 'upload' | 'websocket' | 'static'): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', PROBE, mode], { timeout: 20_000 });
  const { grew, filled } = JSON.parse(stdout) as { grew: number; filled: number };
  expect(filled).toBe(8 * MiB);
  return grew;
}

describe.skipIf(!glibcDefaults)("glibc's thresholds, once the proxy forwarded Node's reads", () => {
  it('a fresh process that served no proxied request mmaps an 8 MiB block (its heap does not grow)', async () => {
    expect(await heapGrowth('static')).toBeLessThan(MiB);
  });

  it.each(['upload', 'websocket'] as const)(
    'after one proxied %s, an 8 MiB block comes from the heap (what free space its top had aside)',
    async (mode) => {
      expect(await heapGrowth(mode)).toBeGreaterThan(7 * MiB);
    },
  );
});
