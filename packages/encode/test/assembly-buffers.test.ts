/**
 * The reused buffers encode gathers declared bodies in (assembly_buffers.ts). A buffer handed to
 * two bodies at once would mix their bytes on the wire; these pin what keeps that from happening.
 */
import { describe, expect, it } from 'vitest';
import { leaseAssembly } from '../src/assembly_buffers.js';

describe('assembly buffers', () => {
  it('gives a released buffer to the next body of its size class, and a released-twice one only once', () => {
    const first = leaseAssembly(100_000);
    expect(first.bytes.length).toBe(128 * 1024);
    first.release();
    first.release();
    const a = leaseAssembly(70_000);
    const b = leaseAssembly(120_000);
    expect(a.bytes.buffer).toBe(first.bytes.buffer);
    expect(b.bytes.buffer).not.toBe(a.bytes.buffer);
    a.release();
    b.release();
  });

  it('never hands out a buffer still leased', () => {
    const held = Array.from({ length: 40 }, (_, i) => leaseAssembly(9_000 + i * 25_000));
    const memory = new Set(held.map((l) => l.bytes.buffer));
    expect(memory.size).toBe(held.length);
    for (const l of held) expect(l.bytes.length).toBeGreaterThanOrEqual(9_000);
    for (const l of held) l.release();
  });

  it('leaves bodies below 8 KiB and above 1 MiB to plain allocations, never pooled', () => {
    for (const size of [1, 8191, 1024 * 1024 + 1]) {
      const lease = leaseAssembly(size);
      expect(lease.bytes.length).toBe(size);
      lease.release();
      // A small one may share Node's pool slab with others, never the same bytes.
      const next = leaseAssembly(size).bytes;
      expect(next.buffer === lease.bytes.buffer && next.byteOffset === lease.bytes.byteOffset).toBe(false);
    }
  });
});
