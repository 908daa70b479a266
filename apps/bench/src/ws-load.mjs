#!/usr/bin/env node
// The ws scenario's load generator (wrk cannot speak WebSocket): CONNECTIONS clients of the
// ws package, each keeping IN_FLIGHT binary messages of SIZE random bytes outstanding against
// an echo server, for SECONDS. Every echo is compared with what was sent, byte for byte.
// Prints one JSON line: { messages, seconds, latencyMs: { p50, p99 }, mismatches, errors }.
//
//   node ws-load.mjs URL CONNECTIONS IN_FLIGHT SIZE SECONDS
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';

const [url, connections, inFlight, size, seconds] = [process.argv[2], ...process.argv.slice(3, 7).map(Number)];
/** A few different payloads in turn, so an echo of the wrong message is caught too. */
const payloads = Array.from({ length: 4 }, () => randomBytes(size));
const latencies = [];
const STUCK_MS = 10_000;
const errors = [];
let mismatches = 0;

function open() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Runs one connection until `deadline`; resolves with the echoes received before it. */
function run(socket, deadline) {
  return new Promise((resolve) => {
    // sentAt is a ring: message k's slot is reused by message k + inFlight, sent only after k's echo.
    const sentAt = new Float64Array(inFlight);
    let sent = 0;
    let received = 0;
    let counted = 0;
    const send = () => {
      sentAt[sent % inFlight] = performance.now();
      socket.send(payloads[sent % payloads.length], { binary: true });
      sent++;
    };
    // A relay that stops passing echoes on must not hang the run.
    const stuck = setTimeout(
      () => {
        errors.push(`echoes still outstanding ${STUCK_MS / 1000} s after the end`);
        socket.terminate();
      },
      deadline - performance.now() + STUCK_MS,
    );
    socket.on('message', (data) => {
      const now = performance.now();
      if (!data.equals(payloads[received % payloads.length])) mismatches++;
      if (now <= deadline) {
        counted++;
        latencies.push(now - sentAt[received % inFlight]);
      }
      received++;
      if (now < deadline) send();
      else if (received === sent) socket.close();
    });
    socket.on('close', () => {
      clearTimeout(stuck);
      if (received !== sent) errors.push('a connection closed with echoes outstanding');
      resolve(counted);
    });
    socket.on('error', (error) => errors.push(error.message));
    for (let i = 0; i < inFlight; i++) send();
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const sockets = await Promise.all(Array.from({ length: connections }, open));
const started = performance.now();
const counts = await Promise.all(sockets.map((socket) => run(socket, started + seconds * 1000)));
const sorted = Float64Array.from(latencies).sort();
process.stdout.write(
  `${JSON.stringify({
    messages: counts.reduce((a, b) => a + b, 0),
    seconds,
    latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    mismatches,
    errors: [...new Set(errors)],
  })}\n`,
);
