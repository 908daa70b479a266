/**
 * A 1 GiB file to a client that reads 64 KiB a second: the file streams with backpressure, so the
 * process's memory stays flat (RSS grows less than 32 MiB over the few seconds it is watched).
 */
import { closeSync, openSync, ftruncateSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { portOf } from '@ferry/test-kit/servers';
import { fileServer } from '../src/index.js';
import { defer, makeSite, serve } from './helpers.js';

const GiB = 1024 ** 3;
const RATE = 64 * 1024; // bytes a second
const WATCH_MS = 3000;

it('a slow reader of a 1 GiB sparse file keeps RSS growth under 32 MiB', { timeout: 15_000 }, async () => {
  const site = makeSite();
  const fd = openSync(join(site.root, 'big.bin'), 'w');
  ftruncateSync(fd, GiB);
  closeSync(fd);
  const server = await serve({ routes: [{ handle: [fileServer({ root: site.root })] }] });

  const socket = connect(portOf(server), '127.0.0.1');
  defer(() => socket.destroy());
  socket.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
  const base = process.memoryUsage().rss;
  let peak = base;
  let received = 0;
  const started = Date.now();
  // Reads at RATE: pauses whenever ahead of it, resumes on a 50 ms tick, for WATCH_MS in all.
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > (RATE * (Date.now() - started)) / 1000) socket.pause();
    });
    const tick = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
      if (Date.now() - started >= WATCH_MS) {
        clearInterval(tick);
        resolve();
      } else if (received <= (RATE * (Date.now() - started)) / 1000) socket.resume();
    }, 50);
  });
  socket.destroy();
  const head = received;
  // The client did read (the response started) and stayed far behind the file.
  expect(head).toBeGreaterThan(RATE);
  expect(head).toBeLessThan(64 * 1024 * 1024);
  expect(peak - base).toBeLessThan(32 * 1024 * 1024);
});
