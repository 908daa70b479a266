#!/usr/bin/env node
// The sse-fanout scenario's load generator and publisher: SUBSCRIBERS raw HTTP/1.1 connections
// hold GET SUB_URL open (opened in batches, each answered 200 text/event-stream before anything
// is published); then one POST to PUB_URL every INTERVAL ms for SECONDS, each event's data the
// JSON {"n": k, "t": sent-at (performance.now() of this process)}. Every subscriber must receive
// every event, in order; publish→receive latency is taken for every delivery. With PROBE (a Unix
// socket the server answers with its memory after a full GC: servers/memory-probe.mjs), the
// server's heap and RSS are read before the first subscriber and once every event was delivered,
// before any subscriber leaves (the probe's full GC stops the server: read during the run, it
// would show as every subscriber's latency for the events it held up). Prints one JSON line:
// { deliveries, expected, seconds, latencyMs: { p50, p99 }, memory: { before, after }, errors }.
//
//   node sse-load.mjs SUB_URL PUB_URL SUBSCRIBERS SECONDS INTERVAL_MS [PROBE]
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const [subUrl, pubUrl, subscribers, seconds, interval, probePath] = [
  new URL(process.argv[2]),
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
  Number(process.argv[6]),
  process.argv[7],
];
const BATCH = 250;
const events = Math.floor((seconds * 1000) / interval);
/** Latency of delivery k of subscriber s at [s * events + k]; NaN until received. */
const latencies = new Float64Array(subscribers * events).fill(Number.NaN);
const errors = new Set();
let deliveries = 0;

/** The server's memory after a full GC, through its probe. */
function probe() {
  if (!probePath) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(probePath);
    socket.setEncoding('utf8');
    socket.on('data', (c) => (text += c));
    socket.on('end', () => resolve(JSON.parse(text)));
    socket.on('error', (e) => {
      errors.add(`memory probe: ${e.message}`);
      resolve(undefined);
    });
  });
}

/** One subscriber: resolves once its response head (200, text/event-stream) has arrived. */
function subscribe(index) {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(subUrl.port), subUrl.hostname);
    let head = '';
    let buffer = '';
    let expected = 0;
    socket.setEncoding('latin1');
    socket.on('error', (e) => errors.add(`subscriber: ${e.message}`));
    socket.once('connect', () =>
      socket.write(`GET ${subUrl.pathname} HTTP/1.1\r\nHost: ${subUrl.host}\r\nAccept: text/event-stream\r\n\r\n`),
    );
    const onEvent = (data) => {
      const now = performance.now();
      let event;
      try {
        event = JSON.parse(data);
      } catch {
        return; // a heartbeat or another server's own event
      }
      if (event.n !== expected) errors.add(`a subscriber got event ${event.n} where ${expected} was due`);
      expected = event.n + 1;
      if (event.n < events) latencies[index * events + event.n] = now - event.t;
      deliveries++;
    };
    socket.on('data', (chunk) => {
      if (head !== null) {
        head += chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        const status = head.slice(0, head.indexOf('\r\n'));
        if (!/^HTTP\/1\.1 200/.test(status) || !/content-type: *text\/event-stream/i.test(head.slice(0, end))) {
          reject(new Error(`subscribe answered ${JSON.stringify(status)}`));
          socket.destroy();
          return;
        }
        chunk = head.slice(end + 4);
        head = null;
        resolve(socket);
      }
      buffer += chunk;
      // Chunked framing lines (hex sizes) never start with "data:", so they pass unnoticed.
      let nl = buffer.indexOf('\n');
      while (nl !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('data:')) onEvent(line.slice(line[5] === ' ' ? 6 : 5));
        nl = buffer.indexOf('\n');
      }
    });
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function publish(n) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ n, t: performance.now() });
    const req = request(pubUrl, { method: 'POST', agent, headers: { 'content-type': 'text/plain' } }, (res) => {
      if (res.statusCode >= 300) errors.add(`publish answered ${res.statusCode}`);
      res.resume();
      res.once('end', resolve);
    });
    req.on('error', (e) => {
      errors.add(`publish: ${e.message}`);
      resolve();
    });
    req.end(body);
  });
}

const before = await probe();
const sockets = [];
for (let i = 0; i < subscribers; i += BATCH) {
  const batch = Array.from({ length: Math.min(BATCH, subscribers - i) }, (_, j) => subscribe(i + j));
  sockets.push(...(await Promise.all(batch)));
}
const started = performance.now();
for (let n = 0; n < events; n++) {
  // On a fixed schedule from the start: a slow publish does not push the next ones back.
  const due = started + n * interval;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  void publish(n);
}
// The last events may still be on their way: up to 5 s more.
const deadline = performance.now() + 5000;
while (deliveries < subscribers * events && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const after = await probe();
for (const socket of sockets) socket.destroy();
agent.destroy();

const received = latencies.filter((v) => !Number.isNaN(v)).sort();
const percentile = (p) => received[Math.min(received.length - 1, Math.floor((p / 100) * received.length))];
if (received.length < subscribers * events) errors.add(`${subscribers * events - received.length} deliveries missing`);
process.stdout.write(
  `${JSON.stringify({
    deliveries: received.length,
    expected: subscribers * events,
    seconds: (events * interval) / 1000,
    latencyMs: { p50: percentile(50), p99: percentile(99) },
    memory: { before, after },
    errors: [...errors],
  })}\n`,
);
