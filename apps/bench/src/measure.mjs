// One measurement of one contender: start it, check its answer, warm it up, load it, stop it.
import { Agent, request } from 'node:http';
import { machineUsage, sample, sampleMachine, usage } from './cpu.mjs';
import { freePort, spawnPinned, stop, waitForOutput, waitForPort } from './processes.mjs';
import { describeErrors, runWrk } from './wrk.mjs';

/** Starts `contender` on a fresh port, pinned to `cpu`; resolves once it accepts connections. */
export async function startContender(contender, { cpu, workDir, path = '/', nodeFlags = [] }) {
  const port = await freePort();
  const { command, args, env, ready } = contender.start(port, workDir);
  const child = spawnPinned(cpu, command, [...nodeFlags, ...args], {
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  try {
    await waitForPort(port, child, contender.id);
    if (ready) await waitForOutput(child, ready, contender.id);
  } catch (error) {
    await stop(child);
    throw error;
  }
  return { child, port, url: `http://127.0.0.1:${port}${path}` };
}

/** One GET on a keep-alive connection (as wrk's are), closed afterwards. */
async function get(url) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await getWith(agent, url);
  } finally {
    agent.destroy();
  }
}

function getWith(agent, url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, rawHeaders: res.rawHeaders, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no response from ${url} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Fails loudly unless the contender answers 200 with exactly the expected body and keeps the
 * connection open: a fast wrong answer must never show up as a fast result.
 */
export async function verifyResponse(contender, url, expectedBody) {
  const res = await get(url);
  const problems = [];
  if (res.status !== 200) problems.push(`status ${res.status}, expected 200`);
  if (res.body !== expectedBody) problems.push(`body ${JSON.stringify(res.body)}, expected ${JSON.stringify(expectedBody)}`);
  if (/\bclose\b/i.test(res.headers.connection ?? '')) problems.push('"Connection: close" (keep-alive is under test)');
  if (problems.length) throw new Error(`${contender.id} answered wrongly at ${url}: ${problems.join('; ')}`);
  return res;
}

/** The response's header lines, as sent, for the fairness check printed in round 1. */
export function headerSummary(res) {
  const names = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) names.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  return names.join(' | ');
}

/** A full measurement; the contender is stopped whatever happens. */
export async function measure(contender, { benchmark, serverCpu, wrkCpu, wrk, settings, workDir, onVerified }) {
  const { child, url } = await startContender(contender, { cpu: serverCpu, workDir, path: benchmark.path });
  try {
    const res = await verifyResponse(contender, url, benchmark.body);
    onVerified?.(res);
    const load = { url, cpu: wrkCpu, threads: settings.threads, connections: settings.connections, pipeline: settings.pipeline };
    // Warm-up lets V8 optimize the hot path before anything is counted; its numbers are discarded.
    if (settings.warmup > 0) await runWrk(wrk, { ...load, duration: settings.warmup });
    // Pinned: the server's core and wrk's; unpinned (serverCpu undefined): the whole machine.
    const take = serverCpu === undefined ? () => sampleMachine(child.pid) : () => sample(child.pid, serverCpu, wrkCpu);
    const before = take();
    const result = await runWrk(wrk, { ...load, duration: settings.duration });
    // wrk times a pipelined batch as one request: its latency figures do not compare.
    if (settings.pipeline > 1) result.latencyMs = {};
    result.cpu = (serverCpu === undefined ? machineUsage : usage)(before, take());
    // CPU time per request: unlike req/s, it does not move when the server merely waits.
    if (result.cpu && result.requests) result.cpuUsPerRequest = (result.cpu.serverSeconds * 1e6) / result.requests;
    result.errors = describeErrors(result);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${contender.id} died under load:\n${child.output.trim()}`);
    }
    return result;
  } finally {
    await stop(child);
  }
}
