// sse-fanout: 10,000 subscribers on one topic, one publish every 100 ms. The subscribers and the
// publisher are one process (sse-load.mjs) on the load generator's core; the server runs alone
// on the other. What matters: every subscriber gets every event, publish→receive latency
// (p50, p99 over all deliveries), and the server's heap and RSS per subscriber (after a full
// GC, read through servers/memory-probe.mjs preloaded into it).
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wrongAnswer } from '../http-check.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { describeExit, spawnPinned } from '../processes.mjs';
import { HOST } from '../servers/common.mjs';

const LOAD_SCRIPT = fileURLToPath(new URL('../sse-load.mjs', import.meta.url));
const PROBE_SCRIPT = fileURLToPath(new URL('../servers/memory-probe.mjs', import.meta.url));
const INTERVAL_MS = 100;

/** Where a server on `port` answers the memory probe. */
const probePath = (port) => join(tmpdir(), `ferry-bench-probe-${port}.sock`);

/** Starts `start` with the memory probe preloaded (and gc exposed). */
const probed = (start) => (port, ctx) => {
  const spec = start(port, ctx);
  const options = `--expose-gc --import ${PROBE_SCRIPT}`;
  return { ...spec, env: { ...spec.env, NODE_OPTIONS: options, BENCH_MEMORY_PROBE: probePath(port) } };
};

/** Ferry's hub: `sse` on /sub (one topic), `sse_publish` on /pub; per-address limit raised for 10,000 local subscribers. */
function ferrySseConfig(port) {
  const sse = { handler: 'sse', topic: 'bench', heartbeat: '15s', max_subscriptions_per_address: 20_000 };
  const routes = [
    { match: [{ path: ['/sub'] }], handle: [sse] },
    { match: [{ path: ['/pub'], method: ['POST'] }], handle: [{ handler: 'sse_publish', topic: 'bench' }] },
  ];
  return { admin: { disabled: true }, apps: { http: { servers: { bench: { listen: [`${HOST}:${port}`], protocols: ['h1'], routes } } } } };
}

/**
 * The event blocks of an event stream's text that are complete (ended by a blank line), each as
 * its data: the `data:` lines joined with newlines, as an EventSource dispatches it (WHATWG HTML
 * §9.2.6). A data line never followed by a blank line is never dispatched: it is not here.
 */
function dispatched(text) {
  const blocks = text.split(/\r\n\r\n|\n\n|\r\r/).slice(0, -1);
  return blocks.flatMap((block) => {
    const data = block
      .split(/\r\n|\n|\r/)
      .filter((line) => line === 'data' || line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    return data.length === 0 ? [] : [data.join('\n')];
  });
}

/** One subscriber, one publish of a random token: the token must arrive as one dispatched event's data. */
async function verify({ contender, server }) {
  const token = `check-${Math.random().toString(36).slice(2)}`;
  const got = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no complete event (data lines and a blank line) within 5 s')), 5000);
    const sub = request(`${server.url}/sub`, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200 || !/^text\/event-stream/.test(res.headers['content-type'] ?? '')) {
        clearTimeout(timer);
        reject(new Error(`GET /sub answered ${res.statusCode} ${res.headers['content-type']}`));
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
        const data = dispatched(text).find((d) => d.includes('check-'));
        if (data === undefined) return;
        clearTimeout(timer);
        sub.destroy();
        resolve({ data, type: res.headers['content-type'] });
      });
      // Subscribed: publish once the head is in.
      const pub = request(`${server.url}/pub`, { method: 'POST', headers: { 'content-type': 'text/plain' } }, (r) => r.resume());
      pub.on('error', reject);
      pub.end(token);
    });
    sub.on('error', () => {});
    sub.end();
  }).catch((e) => {
    throw wrongAnswer(contender.id, 'subscribe and publish', [e.message]);
  });
  if (got.data !== token) throw wrongAnswer(contender.id, 'the event', [`its data was ${JSON.stringify(got.data)}`]);
  return { summary: `the published token arrived as one event (${got.type})` };
}

/** sse-load.mjs on the load generator's core; the rate is deliveries per second. */
async function drive({ server, cpu, settings, duration }) {
  const port = new URL(server.url).port;
  const args = [LOAD_SCRIPT, `${server.url}/sub`, `${server.url}/pub`, settings.connections, duration, INTERVAL_MS, probePath(port)];
  const child = spawnPinned(cpu, process.execPath, args.map(String));
  const exit = await child.exited;
  const line = child.output.trim().split('\n').at(-1);
  if (exit.code !== 0 || !line?.startsWith('{')) throw new Error(`sse-load failed (${describeExit(exit)}):\n${child.output.trim()}`);
  const { deliveries, seconds, latencyMs, memory, errors } = JSON.parse(line);
  const per = (key) => (memory.before && memory.after ? (memory.after[key] - memory.before[key]) / settings.connections : undefined);
  return {
    requestsPerSec: deliveries / seconds,
    requests: deliveries,
    latencyMs,
    errors: errors.join(', '),
    memory: { heapPerSubscriber: per('heapUsed'), rssPerSubscriber: per('rss'), p50Ms: latencyMs.p50 },
  };
}

const kib = (bytes) => (bytes === undefined ? '—' : `${(bytes / 1024).toFixed(1)} KiB`);

export const sseFanout = {
  id: 'sse-fanout',
  title: 'server-sent events: 10,000 subscribers on one topic, one publish every 100 ms (server on one core, subscribers on the other)',
  summary: '10,000 SSE subscribers, a publish every 100 ms: latency, heap and RSS per subscriber',
  unit: 'events/s',
  baseline: 'node',
  baselineLabel: 'node:http',
  pinned: true,
  connections: 10_000,
  duration: 30,
  warmup: 0,
  loadGeneratorSaturates: true,
  cases: [{ id: 'fanout', title: '10,000 subscribers, 10 events a second' }],
  verify,
  drive,
  /** Columns from the drive's `memory` (measure.mjs keeps it as the run's facts). */
  factColumns: [
    { title: 'p50 latency', cell: (f) => (f.p50Ms === undefined ? '—' : `${f.p50Ms.toFixed(2)} ms`) },
    { title: 'heap per subscriber', cell: (f) => kib(f.heapPerSubscriber) },
    { title: 'RSS per subscriber', cell: (f) => kib(f.rssPerSubscriber) },
  ],
  contenders: [
    { id: 'node', label: (ctx) => `hand-written fan-out on node:http (${ctx.nodeVersion})`, start: probed(nodeServer('sse-node.mjs')) },
    probedFerry(),
    {
      id: 'better-sse',
      label: `better-sse ${versionOf('better-sse')} on express ${versionOf('express')}`,
      start: probed(nodeServer('sse-better.mjs')),
    },
    { id: 'hono', label: `hono ${versionOf('hono')} streamSSE`, start: probed(nodeServer('sse-hono.mjs')) },
  ],
  ratios: [
    ['ferry', 'better-sse', 'ferry / better-sse'],
    ['ferry', 'hono', 'ferry / hono'],
  ],
};

function probedFerry() {
  const ferry = ferryContender({ id: 'ferry', what: 'sse + sse_publish', config: ferrySseConfig });
  return { ...ferry, start: probed(ferry.start) };
}
