// ws: WebSocket echo, direct and through each relay. The echo server (servers/ws-echo.mjs, the
// ws package) runs with the relay on the server core; the load generator (ws-load.mjs, the ws
// package as client) on the other. One "request" here is one message echoed back.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { headerSummary, wrongAnswer } from '../http-check.mjs';
import { caddyContender, caddyReverseProxy } from '../launchers/caddy.mjs';
import { ferryContender } from '../launchers/ferry.mjs';
import { nginxContender } from '../launchers/nginx.mjs';
import { nodeServer, versionOf } from '../launchers/node.mjs';
import { describeExit, spawnPinned } from '../processes.mjs';
import { ferryProxyConfig } from '../servers/ferry-config.mjs';

const LOAD_SCRIPT = fileURLToPath(new URL('../ws-load.mjs', import.meta.url));
const echo = nodeServer('ws-echo.mjs');
const KIB16 = 16 * 1024;

const cases = [
  { id: '1x32B', title: '32 B messages, one in flight per connection', inFlight: 1, size: 32 },
  { id: '32x32B', title: '32 B messages, 32 in flight per connection', inFlight: 32, size: 32 },
  { id: '1x16KiB', title: '16 KiB messages, one in flight per connection', inFlight: 1, size: KIB16 },
  { id: '32x16KiB', title: '16 KiB messages, 32 in flight per connection', inFlight: 32, size: KIB16 },
];

/** Random payloads of the case's size and of each WebSocket length encoding's edges, echoed in order. */
async function verify({ contender, server, kase }) {
  const sizes = [kase.size, 0, 125, 126, 65_535, 65_536, 100_000];
  const payloads = sizes.map((n) => randomBytes(n));
  const echoes = [];
  let upgrade;
  const socket = new WebSocket(`ws${server.url.slice(4)}/`, { perMessageDeflate: false });
  socket.once('upgrade', (res) => (upgrade = res));
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${echoes.length} of ${payloads.length} echoes within 5 s`)), 5000);
      socket.once('error', reject);
      socket.once('open', () => {
        for (const payload of payloads) socket.send(payload, { binary: true });
      });
      socket.on('message', (data, isBinary) => {
        echoes.push({ data, isBinary });
        if (echoes.length === payloads.length) resolve(clearTimeout(timer));
      });
    });
  } catch (error) {
    throw wrongAnswer(contender.id, 'WebSocket echo', [error.message]);
  } finally {
    socket.terminate();
  }
  const problems = echoes.flatMap(({ data, isBinary }, i) =>
    isBinary && data.equals(payloads[i]) ? [] : [`echo ${i + 1} (${sizes[i]} B) came back as ${data.length} different bytes`],
  );
  if (problems.length) throw wrongAnswer(contender.id, 'WebSocket echo', problems);
  return { summary: `${payloads.length} random messages echoed byte-exact; 101 with ${headerSummary(upgrade)}` };
}

/** A scenario's `drive`: ws-load.mjs on the load generator's core, for `duration` seconds. */
async function drive({ server, kase, cpu, settings, duration }) {
  const args = [LOAD_SCRIPT, `ws${server.url.slice(4)}/`, settings.connections, kase.inFlight, kase.size, duration].map(String);
  const child = spawnPinned(cpu, process.execPath, args);
  const exit = await child.exited;
  const line = child.output.trim().split('\n').at(-1);
  if (exit.code !== 0 || !line?.startsWith('{')) throw new Error(`ws-load failed (${describeExit(exit)}):\n${child.output.trim()}`);
  const { messages, seconds, latencyMs, mismatches, errors } = JSON.parse(line);
  const problems = [...errors, ...(mismatches ? [`${mismatches} echo(es) differing from the message sent`] : [])];
  return { requestsPerSec: messages / seconds, requests: messages, latencyMs, errors: problems.join(', ') };
}

/** A relay in front of a fresh echo server of its own, on the same core. */
const relaying = (contender) => ({ ...contender, upstream: echo });

export const ws = {
  id: 'ws',
  title: 'WebSocket echo through a relay (relay and echo server on one core; the ws package as client and server)',
  summary: 'WebSocket echo, direct and through each relay; 32 B and 16 KiB messages, 1 or 32 in flight',
  unit: 'msg/s',
  baseline: 'direct',
  baselineLabel: 'direct',
  pinned: true,
  connections: 16,
  /**
   * The client is Node doing the same framing work as the echo server, so against the echo
   * server alone it may be the bottleneck: not a reason to repeat a run; the table shows its core's idle share.
   */
  loadGeneratorSaturates: true,
  cases,
  verify,
  drive,
  ownCpuTitle: "relay's own CPU per message",
  contenders: [
    { id: 'direct', label: `direct: the echo server alone (ws ${versionOf('ws')})`, start: echo },
    relaying(ferryContender({ id: 'ferry', what: 'reverse_proxy', config: (port, ctx) => ferryProxyConfig(port, ctx.upstream.port) })),
    relaying({ id: 'http-proxy', label: `http-proxy ${versionOf('http-proxy')} (ws: true)`, start: nodeServer('http-proxy.mjs') }),
    relaying({
      id: 'floor',
      label: 'the floor of a node:http relay (bytes piped both ways, not a usable proxy)',
      start: nodeServer('floor-proxy.mjs'),
    }),
    relaying(caddyContender({ id: 'caddy', what: 'reverse_proxy', handlers: (ctx) => [caddyReverseProxy(ctx.upstream.port)] })),
    relaying(nginxContender({ id: 'nginx', what: 'proxy_pass with Upgrade, 1 worker', websocket: true })),
  ],
  ratios: [
    ['ferry', 'nginx', 'ferry / nginx'],
    ['ferry', 'http-proxy', 'ferry / http-proxy'],
    ['ferry', 'caddy', 'ferry / caddy'],
    ['ferry', 'floor', 'ferry / the floor of a node:http relay'],
  ],
};
